/** ckpt demo: a tiny checkpoint and one DemoStep per capability. */
package dev.ckpt.tools.demo;
