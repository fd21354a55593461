/** Implementation helpers (temp files, fsync, atomic rename); not API. */
package dev.ckpt.formats.internal;
