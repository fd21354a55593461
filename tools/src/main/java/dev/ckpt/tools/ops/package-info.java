/** The operations (Inspect, Convert, ...): one entry point each taking an Options record, returning a Report; no console I/O. */
package dev.ckpt.tools.ops;
