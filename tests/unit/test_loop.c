/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event loop's deferred work (loop_set_idle): when it runs relative to events. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../netd/loop.h"

/* What happened, in order: 'e' an event dispatched, 'i' a call of the idle function. */
struct trace {
        char log[64];
        size_t n;
        int pipe[2];
        int events_left; /* events to dispatch before quitting (0: quit from idle) */
        int idle_rounds; /* how many idle calls return true */
        int write_in_idle; /* idle calls that write a byte (an event arriving meanwhile) */
};

static void note(struct trace *t, char c)
{
        if (t->n < sizeof(t->log) - 1)
                t->log[t->n++] = c;
}

static void on_read(struct loop *l, int fd, uint32_t events, void *userdata)
{
        struct trace *t = userdata;
        char c;

        (void)events;
        assert_int_equal(read(fd, &c, 1), 1);
        note(t, 'e');
        if (--t->events_left == 0)
                loop_quit(l, 0);
}

static bool on_idle(struct loop *l, void *userdata)
{
        struct trace *t = userdata;

        note(t, 'i');
        if (t->write_in_idle > 0) {
                t->write_in_idle--;
                assert_int_equal(write(t->pipe[1], "x", 1), 1);
        }
        if (t->idle_rounds > 0)
                return t->idle_rounds-- > 1;
        if (t->events_left == 0)
                loop_quit(l, 0);
        return false;
}

static void setup_trace(struct trace *t, struct loop **l)
{
        memset(t, 0, sizeof(*t));
        assert_int_equal(pipe(t->pipe), 0);
        assert_int_equal(loop_new(l), 0);
        assert_int_equal(loop_add(*l, t->pipe[0], EPOLLIN, on_read, t), 0);
}

static void teardown_trace(struct trace *t, struct loop *l)
{
        loop_free(l);
        close(t->pipe[0]);
        close(t->pipe[1]);
}

/* With no event waiting, it runs at once; an event that arrives is then dispatched. */
static void test_idle_runs_after_each_batch(void **state)
{
        struct trace t;
        struct loop *l;

        (void)state;
        setup_trace(&t, &l);
        t.events_left = 1;
        t.write_in_idle = 1; /* the first idle call makes the one event */
        loop_set_idle(l, on_idle, &t);
        assert_int_equal(loop_run(l), 0);
        /* idle, then the event (the loop quits in its callback: no idle after a quit) */
        assert_string_equal(t.log, "ie");
        teardown_trace(&t, l);
}

/* An idle function that has more to do is called again, with a check for events between
 * calls: an event that arrived meanwhile is dispatched before the next call. */
static void test_idle_repeats_and_lets_events_in(void **state)
{
        struct trace t;
        struct loop *l;

        (void)state;
        setup_trace(&t, &l);
        t.events_left = 2;
        t.idle_rounds = 3;   /* true, true, false */
        t.write_in_idle = 2; /* the first two calls each make an event */
        loop_set_idle(l, on_idle, &t);
        assert_int_equal(loop_run(l), 0);
        /* i (writes, more) -> e -> i (writes, more) -> e: quit */
        assert_string_equal(t.log, "ieie");
        teardown_trace(&t, l);
}

/* Events that are waiting are dispatched before the idle function runs; once it says it is
 * done, the loop waits for an event, and runs it again after that event. */
static void test_idle_waits_for_events_when_done(void **state)
{
        struct trace t;
        struct loop *l;

        (void)state;
        setup_trace(&t, &l);
        t.events_left = 3; /* quit in the third event's callback */
        loop_set_idle(l, on_idle, &t);
        /* Three events ready at once are one batch. */
        assert_int_equal(write(t.pipe[1], "abc", 3), 3);
        assert_int_equal(loop_run(l), 0);
        /* Events already waiting go first; then one byte per dispatch, each a batch of its
         * own (the level-triggered fd stays ready), with the idle function after each but
         * the last, whose callback quits. */
        assert_string_equal(t.log, "eieie");
        teardown_trace(&t, l);
}

/* Without an idle function the loop never calls one (and does not spin). */
static void test_no_idle(void **state)
{
        struct trace t;
        struct loop *l;

        (void)state;
        setup_trace(&t, &l);
        t.events_left = 1;
        assert_int_equal(write(t.pipe[1], "a", 1), 1);
        assert_int_equal(loop_run(l), 0);
        assert_string_equal(t.log, "e");
        teardown_trace(&t, l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_idle_runs_after_each_batch),
                cmocka_unit_test(test_idle_repeats_and_lets_events_in),
                cmocka_unit_test(test_idle_waits_for_events_when_done),
                cmocka_unit_test(test_no_idle),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
