#ifndef GTRACE_SYSTEM_H
#define GTRACE_SYSTEM_H
/* Linux calls the recorder needs that Swift's Glibc module does not expose. */

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of the tree are reparented to us. Returns 0 or -1. */
int gtrace_become_child_subreaper(void);

#endif
