/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The port registry's journal (netd/ports.c): what a restarted vnetd reads back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "network_json.h"
#include "../../netd/ports.h"

struct fixture {
        char dir[64];
        char journal[128];
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        if (!f)
                return -1;
        snprintf(f->dir, sizeof(f->dir), "/tmp/vnet-ports.XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->journal, sizeof(f->journal), "%s/ports.journal", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        if (system(cmd) != 0)
                return -1;
        free(f);
        return 0;
}

static struct vnet_port port(const char *net, const char *ifname, uint8_t last)
{
        struct vnet_port p = { .owner = 1000, .group = -1, .queues = 1,
                               .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, last } };

        snprintf(p.network, sizeof(p.network), "%s", net);
        snprintf(p.ifname, sizeof(p.ifname), "%s", ifname);
        return p;
}

static struct ports *open_loaded(struct fixture *f)
{
        struct ports *ps = NULL;

        assert_int_equal(ports_new(f->dir, &ps), 0);
        assert_int_equal(ports_load(ps), 0);
        return ps;
}

static size_t lines_of(const char *path)
{
        FILE *fp = fopen(path, "r");
        size_t n = 0;
        int c;

        assert_non_null(fp);
        while ((c = fgetc(fp)) != EOF)
                n += c == '\n';
        fclose(fp);
        return n;
}

static void append_text(const char *path, const char *text)
{
        FILE *fp = fopen(path, "a");

        assert_non_null(fp);
        assert_int_equal(fputs(text, fp) >= 0, 1);
        assert_int_equal(fclose(fp), 0);
}

/* Additions and a removal survive a restart as they were left. */
static void replay_after_restart(void **state)
{
        struct fixture *f = *state;
        struct vnet_port a = port("lab", "vnet0", 1), b = port("lab", "vnet1", 2),
                         c = port("web", "tap-c", 3);
        struct ports *ps = open_loaded(f);
        struct port *pt;

        assert_int_equal(ports_add(ps, &a, NULL), 0);
        assert_int_equal(ports_add(ps, &b, NULL), 0);
        assert_int_equal(ports_add(ps, &c, NULL), 0);
        assert_int_equal(ports_add(ps, &c, NULL), -EEXIST);
        assert_int_equal(ports_remove(ps, ports_find(ps, "vnet0")), 0);
        ports_free(ps);

        ps = open_loaded(f);
        assert_int_equal(ports_count(ps), 2);
        assert_null(ports_find(ps, "vnet0"));
        pt = ports_find(ps, "vnet1");
        assert_non_null(pt);
        assert_int_equal(pt->p.queues, 1);
        assert_memory_equal(pt->p.mac, b.mac, 6);
        pt = ports_find(ps, "tap-c");
        assert_non_null(pt);
        assert_string_equal(pt->p.network, "web");
        assert_int_equal(pt->p.owner, 1000);
        /* Loading compacted it: one line per reservation. */
        assert_int_equal(lines_of(f->journal), 2);
        ports_free(ps);
}

/* A power cut in the middle of an append leaves a line without its end: it is skipped, and
 * what came before it is kept. A line that is not a record is skipped too. */
static void torn_and_bad_lines(void **state)
{
        struct fixture *f = *state;
        struct vnet_port a = port("lab", "vnet0", 1);
        struct ports *ps = open_loaded(f);

        assert_int_equal(ports_add(ps, &a, NULL), 0);
        ports_free(ps);
        append_text(f->journal, "not json\n{\"neither\":1}\n{\"port\":{\"network\":\"lab\",\"ifn");

        ps = open_loaded(f);
        assert_int_equal(ports_count(ps), 1);
        assert_non_null(ports_find(ps, "vnet0"));
        ports_free(ps);
        /* The compaction dropped them. */
        assert_int_equal(lines_of(f->journal), 1);
}

/* Attach and detach over and over: the journal stays bounded by the live reservations. */
static void compaction_bounds_the_journal(void **state)
{
        struct fixture *f = *state;
        struct vnet_port keep = port("lab", "keep0", 9);
        struct ports *ps = open_loaded(f);

        assert_int_equal(ports_add(ps, &keep, NULL), 0);
        for (int i = 0; i < 1000; i++) {
                struct vnet_port p = port("lab", "vnet5", (uint8_t)i);
                struct port *pt;

                assert_int_equal(ports_add(ps, &p, &pt), 0);
                assert_int_equal(ports_remove(ps, pt), 0);
        }
        assert_true(lines_of(f->journal) <= 2 * 1 + 64 + 1);
        ports_free(ps);
        ps = open_loaded(f);
        assert_int_equal(ports_count(ps), 1);
        assert_non_null(ports_find(ps, "keep0"));
        ports_free(ps);
}

/* Reservations of an older vnetd, a file each in STATE_DIR/ports, move into the journal. */
static void legacy_files_migrate(void **state)
{
        struct fixture *f = *state;
        struct vnet_port a = port("lab", "vnet7", 7);
        char dir[160], path[200], *text;
        struct ports *ps;
        struct stat st;
        json_t *o;

        snprintf(dir, sizeof(dir), "%s/ports", f->dir);
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(path, sizeof(path), "%s/vnet7.json", dir);
        o = vnet_port_to_json(&a);
        text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        assert_int_equal(vnet_write_file(path, text, strlen(text), 0644, 0), 0);
        free(text);

        ps = open_loaded(f);
        assert_non_null(ports_find(ps, "vnet7"));
        ports_free(ps);
        assert_int_equal(stat(dir, &st), -1);
        ps = open_loaded(f);
        assert_non_null(ports_find(ps, "vnet7"));
        ports_free(ps);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(replay_after_restart, setup, teardown),
                cmocka_unit_test_setup_teardown(torn_and_bad_lines, setup, teardown),
                cmocka_unit_test_setup_teardown(compaction_bounds_the_journal, setup, teardown),
                cmocka_unit_test_setup_teardown(legacy_files_migrate, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
