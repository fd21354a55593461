/** Resolution of command sources: local paths or hub repo ids ({@link dev.ckpt.tools.source.SourceResolver}). */
package dev.ckpt.tools.source;
