/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetd's one event loop: epoll over file descriptors, plus periodic timers (timerfd). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "loop.h"

#define LOOP_BATCH 64

struct loop_entry {
        int fd;
        bool dead;
        bool timer; /* owns fd, a timerfd */
        loop_io_fn fn;
        loop_timer_fn timer_fn;
        void *userdata;
        struct loop_entry *next_dead;
};

struct loop {
        int epfd;
        struct loop_entry **by_fd; /* indexed by fd */
        size_t n_by_fd;
        /* Entries removed while events for them may still be pending in the batch being
         * dispatched; freed once the batch is done. */
        struct loop_entry *dead;
        bool dispatching;
        loop_idle_fn idle_fn;
        void *idle_userdata;
        bool idle_due; /* events came since the idle function last said it was done */
        bool quit;
        int code;
};

int loop_new(struct loop **ret)
{
        struct loop *l;

        *ret = NULL;
        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0) {
                int r = -errno;

                free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static void loop_entry_free(struct loop_entry *e)
{
        if (e->timer)
                close(e->fd);
        free(e);
}

static void loop_reap(struct loop *l)
{
        while (l->dead) {
                struct loop_entry *e = l->dead;

                l->dead = e->next_dead;
                loop_entry_free(e);
        }
}

void loop_free(struct loop *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n_by_fd; i++)
                if (l->by_fd[i])
                        loop_entry_free(l->by_fd[i]);
        loop_reap(l);
        free(l->by_fd);
        close(l->epfd);
        free(l);
}

static struct loop_entry *loop_find(struct loop *l, int fd)
{
        if (fd < 0 || (size_t)fd >= l->n_by_fd)
                return NULL;
        return l->by_fd[fd];
}

static int loop_insert(struct loop *l, struct loop_entry *e, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.ptr = e };

        if (e->fd < 0)
                return -EBADF;
        if (loop_find(l, e->fd))
                return -EEXIST;
        if ((size_t)e->fd >= l->n_by_fd) {
                size_t n = l->n_by_fd ? l->n_by_fd : 64;
                struct loop_entry **t;

                while (n <= (size_t)e->fd)
                        n *= 2;
                t = realloc(l->by_fd, n * sizeof(*t));
                if (!t)
                        return -ENOMEM;
                memset(t + l->n_by_fd, 0, (n - l->n_by_fd) * sizeof(*t));
                l->by_fd = t;
                l->n_by_fd = n;
        }
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, e->fd, &ev) < 0)
                return -errno;
        l->by_fd[e->fd] = e;
        return 0;
}

int loop_add(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata)
{
        struct loop_entry *e;
        int r;

        if (!fn)
                return -EINVAL;
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->fd = fd;
        e->fn = fn;
        e->userdata = userdata;
        r = loop_insert(l, e, events);
        if (r < 0)
                free(e);
        return r;
}

int loop_mod(struct loop *l, int fd, uint32_t events)
{
        struct loop_entry *e = loop_find(l, fd);
        struct epoll_event ev = { .events = events, .data.ptr = e };

        if (!e)
                return -ENOENT;
        if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
                return -errno;
        return 0;
}

static void loop_remove(struct loop *l, struct loop_entry *e)
{
        /* The caller may already have closed the fd, which removed it from the epoll set. */
        (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, e->fd, NULL);
        l->by_fd[e->fd] = NULL;
        e->dead = true;
        if (l->dispatching) {
                e->next_dead = l->dead;
                l->dead = e;
        } else {
                loop_entry_free(e);
        }
}

int loop_del(struct loop *l, int fd)
{
        struct loop_entry *e = loop_find(l, fd);

        if (!e || e->timer)
                return -ENOENT;
        loop_remove(l, e);
        return 0;
}

int loop_add_timer(struct loop *l, unsigned interval_ms, loop_timer_fn fn, void *userdata)
{
        struct itimerspec its = {
                .it_interval = { interval_ms / 1000, (interval_ms % 1000) * 1000000L },
        };
        struct loop_entry *e = NULL;
        int fd, r;

        if (!fn || interval_ms == 0)
                return -EINVAL;
        its.it_value = its.it_interval;
        fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (timerfd_settime(fd, 0, &its, NULL) < 0) {
                r = -errno;
                goto fail;
        }
        e = calloc(1, sizeof(*e));
        if (!e) {
                r = -ENOMEM;
                goto fail;
        }
        e->fd = fd;
        e->timer = true;
        e->timer_fn = fn;
        e->userdata = userdata;
        r = loop_insert(l, e, EPOLLIN);
        if (r < 0)
                goto fail;
        return 0;
fail:
        free(e);
        close(fd);
        return r;
}

int loop_del_timer(struct loop *l, loop_timer_fn fn, void *userdata)
{
        for (size_t i = 0; i < l->n_by_fd; i++) {
                struct loop_entry *e = l->by_fd[i];

                if (e && e->timer && e->timer_fn == fn && e->userdata == userdata) {
                        loop_remove(l, e);
                        return 0;
                }
        }
        return -ENOENT;
}

static void loop_dispatch_timer(struct loop *l, struct loop_entry *e)
{
        uint64_t expirations;

        /* Several missed expirations are one call: the callbacks check state, they do not
         * count ticks. */
        if (read(e->fd, &expirations, sizeof(expirations)) != sizeof(expirations))
                return;
        e->timer_fn(l, e->userdata);
}

/* Waits up to @timeout_ms (-1: forever) for one batch of events and dispatches it. */
static int loop_run_once(struct loop *l, int timeout_ms)
{
        struct epoll_event evs[LOOP_BATCH];
        int n;

        n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        l->dispatching = true;
        for (int i = 0; i < n; i++) {
                struct loop_entry *e = evs[i].data.ptr;

                /* Removed by an earlier callback of this batch; its fd may even have been
                 * reused by a new entry, which is why events carry the entry, not the fd. */
                if (e->dead)
                        continue;
                if (e->timer)
                        loop_dispatch_timer(l, e);
                else
                        e->fn(l, e->fd, evs[i].events, e->userdata);
        }
        l->dispatching = false;
        loop_reap(l);
        return n;
}

void loop_set_idle(struct loop *l, loop_idle_fn fn, void *userdata)
{
        l->idle_fn = fn;
        l->idle_userdata = userdata;
        l->idle_due = fn != NULL;
}

int loop_run(struct loop *l)
{
        int r = 0;

        while (!l->quit) {
                r = loop_run_once(l, l->idle_due ? 0 : -1);
                if (r < 0)
                        break;
                if (r > 0)
                        l->idle_due = l->idle_fn != NULL;
                if (l->idle_due && !l->quit)
                        l->idle_due = l->idle_fn(l, l->idle_userdata);
        }
        if (r >= 0)
                r = l->code;
        l->quit = false;
        return r;
}

void loop_quit(struct loop *l, int code)
{
        l->quit = true;
        l->code = code;
}
