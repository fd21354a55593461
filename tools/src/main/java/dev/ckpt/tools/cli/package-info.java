/** The picocli command line: thin subcommands that bind options, call one operation and render its result; ExitCodes maps failures to exit codes. */
package dev.ckpt.tools.cli;
