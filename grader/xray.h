/*
 * The X-ray: what a test's processes held at the moment it failed. When a
 * test runs out of time or fails a leak check, the student sees the tree of
 * the test's processes with their states, the descriptors each one opened
 * and what they point at, each pipe's ends matched across the processes
 * ("pipe 183921: write end in pid 3 (fd 5) and pid 5 (fd 1), read end in
 * pid 6 (fd 0)"), and the IPC objects alive.
 *
 * It reads /proc and nothing else and writes plain text into the caller's
 * buffer, so the runner calls it both from its watcher thread (at a timeout,
 * before anything is killed) and from the test process (at a leak check).
 */
#ifndef XRAY_H
#define XRAY_H

#include <stddef.h>
#include <sys/types.h>

#define XRAY_SIZE  4096 /* room for a whole snapshot (about 40 lines) */
#define XRAY_KNOWN 64   /* descriptors the test may begin with */

/* The objects the test process held when the test began: not the student's business. */
struct xray_known {
	int n; /* entries used */
	struct xray_object {
		unsigned long long dev, ino; /* the object a descriptor points at */
		int fd;                      /* its number (anonymous inodes all share one inode) */
		int anon;                    /* an anon_inode object: matched by number too */
	} obj[XRAY_KNOWN];
};

/*
 * Remember what this process's descriptor fd points at, so that snapshots
 * leave it out wherever it is found (a child inherits it too). Can't fail:
 * a descriptor that is not open, or one too many, is ignored.
 */
void xray_remember(struct xray_known *k, int fd);

/*
 * Write the snapshot of the test's processes into buf, NUL-terminated:
 * roots[0..nroots) are the test's own process(es), shown with their
 * descendants, one line a process and children indented, each followed by
 * the descriptors it holds that known does not list; then every pipe's ends;
 * then ipc (the IPC objects alive, one a line; NULL or "" for none). Returns
 * the length written. Can't fail: what cannot be read (a process that ended
 * meanwhile) is left out.
 */
size_t xray_take(char *buf, size_t size, const pid_t *roots, int nroots,
		 const struct xray_known *known, const char *ipc);

#endif
