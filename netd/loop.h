/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vnetd's one event loop: epoll over file descriptors, plus periodic timers (timerfd). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct loop;

typedef void (*loop_io_fn)(struct loop *l, int fd, uint32_t events, void *userdata);
typedef void (*loop_timer_fn)(struct loop *l, void *userdata);
/* Deferred work (loop_set_idle()); returns true while more of it remains. */
typedef bool (*loop_idle_fn)(struct loop *l, void *userdata);

int loop_new(struct loop **ret);
void loop_free(struct loop *l);

/* Watches @fd for @events (EPOLLIN, EPOLLOUT, ...). One watch per fd. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata);
int loop_mod(struct loop *l, int fd, uint32_t events);
/* Safe to call from inside a callback, also for the fd being dispatched. */
int loop_del(struct loop *l, int fd);

/* Calls @fn every @interval_ms. */
int loop_add_timer(struct loop *l, unsigned interval_ms, loop_timer_fn fn, void *userdata);
/* Removes the timer added with this @fn and @userdata; safe from inside a callback. */
int loop_del_timer(struct loop *l, loop_timer_fn fn, void *userdata);

/* Sets the one function for deferred work (NULL: none): it runs after every batch of events,
 * once their callbacks (and the replies they sent) are done, and again after a check for new
 * events each time it returns true, until it returns false. A request that arrives meanwhile
 * waits for one call at most; so work that makes the next request fast (a spare TAP) is done
 * before that request is even read. */
void loop_set_idle(struct loop *l, loop_idle_fn fn, void *userdata);

/* Runs until loop_quit(); returns the code given to it. */
int loop_run(struct loop *l);
void loop_quit(struct loop *l, int code);
