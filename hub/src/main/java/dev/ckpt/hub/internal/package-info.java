/** Implementation details of the hub client (range fetching, resume state, hashing, locks, errors); not API. */
package dev.ckpt.hub.internal;
