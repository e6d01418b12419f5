/*
 * KV walkthrough with nats.c (Debian's libnats 3.4.1), run by ../run.sh against JetKV and nats-server.
 * Prints one line per step, "<part> <step>: <outcome>", in the order of the other clients'
 * walkthroughs; run.sh normalises timestamps and diffs the two servers' transcripts.
 *
 * Usage: walk <url> [consumer-steps 0|1]. Exit status 1 when a step had an unexpected outcome.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

/* Bounds every JetStream request and every wait on a watcher (milliseconds), so a missing reply fails
 * the step instead of hanging the script. */
#define STEP_TIMEOUT_MS 5000

static int failed = 0;

/* The library's text for the last error on this thread when it belongs to status s (the library does not
 * clear it, and some calls fail without setting it), else the status text. The "(file.c:line): "
 * prefix is dropped. */
static const char *
errText(natsStatus s)
{
    natsStatus last = NATS_OK;
    const char *text = nats_GetLastError(&last);
    const char *end;

    if (text == NULL || text[0] == '\0' || last != s)
        return natsStatus_GetText(s);
    if (text[0] == '(' && (end = strstr(text, "): ")) != NULL)
        return end + 3;
    return text;
}

/* Kind of a refusal as the library reports it: nats.c's KV calls return only a status, no JetStream code. */
static const char *
kind(natsStatus s)
{
    switch (s)
    {
        case NATS_NOT_FOUND: return "NATS_NOT_FOUND";
        case NATS_ERR:       return "NATS_ERR";
        case NATS_TIMEOUT:   return "NATS_TIMEOUT";
        default:             return "other";
    }
}

/* A step meant to succeed; detail may be NULL. */
static void
ok(const char *part, const char *step, natsStatus s, const char *detail)
{
    if (s != NATS_OK)
    {
        failed = 1;
        printf("%s %s: FAIL %s %s\n", part, step, kind(s), errText(s));
    }
    else if (detail != NULL && detail[0] != '\0')
        printf("%s %s: ok %s\n", part, step, detail);
    else
        printf("%s %s: ok\n", part, step);
}

/* A step meant to be refused by the server. */
static void
refused(const char *part, const char *step, natsStatus s, const char *detail)
{
    if (s == NATS_OK)
    {
        failed = 1;
        printf("%s %s: FAIL succeeded %s\n", part, step, detail != NULL ? detail : "");
    }
    else
        printf("%s %s: error %s %s\n", part, step, kind(s), errText(s));
}

static const char *
opName(kvOperation op)
{
    switch (op)
    {
        case kvOp_Put:    return "PUT";
        case kvOp_Delete: return "DEL";
        case kvOp_Purge:  return "PURGE";
        default:          return "UNKNOWN";
    }
}

/* Prints the value as text; values in this walkthrough are short ASCII strings or empty. */
static void
entryValue(char *buf, size_t len, kvEntry *e)
{
    snprintf(buf, len, "%.*s", kvEntry_ValueLen(e), kvEntry_ValueLen(e) > 0 ? (const char *) kvEntry_Value(e) : "");
}

static void
entryLine(char *buf, size_t len, kvEntry *e)
{
    char value[256];

    entryValue(value, sizeof(value), e);
    snprintf(buf, len, "key=%s value=%s rev=%" PRIu64 " op=%s created=%" PRId64,
             kvEntry_Key(e), value, kvEntry_Revision(e), opName(kvEntry_Operation(e)), kvEntry_Created(e));
}

static void
shortLine(char *buf, size_t len, kvEntry *e)
{
    char value[256];

    entryValue(value, sizeof(value), e);
    snprintf(buf, len, "%s@%" PRIu64 ":%s:%s", kvEntry_Key(e), kvEntry_Revision(e), opName(kvEntry_Operation(e)), value);
}

/* Appends to a bracketed, space- or comma-separated list kept in buf. */
static void
append(char *buf, size_t len, const char *sep, const char *item)
{
    size_t used = strlen(buf);

    snprintf(buf + used, len - used, "%s%s", used > 1 ? sep : "", item);
}

static void
get(kvStore *kv, const char *part, const char *step, const char *key)
{
    kvEntry *e = NULL;
    char line[512] = "";
    natsStatus s = kvStore_Get(&e, kv, key);

    if (s == NATS_OK)
        entryLine(line, sizeof(line), e);
    ok(part, step, s, line);
    kvEntry_Destroy(e);
}

static void
revLine(char *buf, size_t len, uint64_t rev)
{
    snprintf(buf, len, "rev=%" PRIu64, rev);
}

/* The steps that need only streams, publishes and direct gets. */
static void
base(jsCtx *js, kvStore *kv)
{
    const char *p = "base";
    natsStatus s;
    uint64_t rev = 0, created = 0;
    char line[1024];
    kvEntry *e = NULL;
    kvStatus *st = NULL;
    jsStreamNamesList *names = NULL;
    jsOptions o;

    s = kvStore_PutString(&rev, kv, "Key1", "Value1");
    revLine(line, sizeof(line), rev);
    ok(p, "put Key1=Value1", s, line);
    get(kv, p, "get Key1", "Key1");
    s = kvStore_PutString(&rev, kv, "Key1", "Value2");
    revLine(line, sizeof(line), rev);
    ok(p, "put Key1=Value2", s, line);
    get(kv, p, "get Key1", "Key1");

    s = kvStore_CreateString(&created, kv, "Key2", "Value1");
    revLine(line, sizeof(line), created);
    ok(p, "create Key2=Value1", s, line);
    rev = 0;
    s = kvStore_CreateString(&rev, kv, "Key2", "Value2");
    revLine(line, sizeof(line), rev);
    refused(p, "create Key2=Value2 again", s, line);
    rev = 0;
    s = kvStore_UpdateString(&rev, kv, "Key2", "Value3", created + 100);
    revLine(line, sizeof(line), rev);
    refused(p, "update Key2=Value3 wrong revision", s, line);
    s = kvStore_UpdateString(&rev, kv, "Key2", "Value3", created);
    revLine(line, sizeof(line), rev);
    ok(p, "update Key2=Value3 right revision", s, line);

    ok(p, "delete Key1", kvStore_Delete(kv, "Key1"), NULL);
    line[0] = '\0';
    s = kvStore_Get(&e, kv, "Key1");
    if (s == NATS_OK)
        entryLine(line, sizeof(line), e);
    refused(p, "get Key1 after delete", s, line);
    kvEntry_Destroy(e);
    ok(p, "purge Key2", kvStore_Purge(kv, "Key2", NULL), NULL);

    line[0] = '\0';
    s = kvStore_Status(&st, kv);
    if (s == NATS_OK)
        snprintf(line, sizeof(line), "bucket=%s history=%" PRId64 " values=%" PRIu64,
                 kvStatus_Bucket(st), kvStatus_History(st), kvStatus_Values(st));
    ok(p, "status", s, line);
    kvStatus_Destroy(st);

    /* nats.c 3.4.1 has no bucket listing: list streams on KV subjects as nats.go does. */
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = "$KV.*.>";
    snprintf(line, sizeof(line), "[");
    s = js_StreamNames(&names, js, &o, NULL);
    if (s == NATS_OK)
    {
        for (int i = 0; i < names->Count; i++)
            if (strncmp(names->List[i], "KV_", 3) == 0)
                append(line, sizeof(line), ",", names->List[i] + 3);
    }
    else if (s == NATS_NOT_FOUND)
        s = NATS_OK; /* no stream at all */
    append(line, sizeof(line), "", "]");
    ok(p, "list_buckets", s, line);
    jsStreamNamesList_Destroy(names);
}

/* The steps built on push consumers: keys, history and watch. */
static void
consumers(kvStore *kv)
{
    const char *p = "consumer";
    natsStatus s, s2;
    uint64_t rev = 0;
    char line[1024], item[512];
    kvKeysList keys = { 0 };
    kvEntryList hist = { 0 };
    kvWatchOptions wo;
    kvWatcher *w = NULL;
    kvEntry *e = NULL;

    kvWatchOptions_Init(&wo);
    wo.Timeout = STEP_TIMEOUT_MS;

    s = kvStore_PutString(&rev, kv, "Key3", "Value3");
    revLine(line, sizeof(line), rev);
    ok(p, "put Key3=Value3", s, line);

    snprintf(line, sizeof(line), "[");
    s = kvStore_Keys(&keys, kv, &wo);
    for (int i = 0; s == NATS_OK && i < keys.Count; i++)
        append(line, sizeof(line), ",", keys.Keys[i]);
    append(line, sizeof(line), "", "]");
    ok(p, "keys", s, line);
    kvKeysList_Destroy(&keys);

    snprintf(line, sizeof(line), "[");
    s = kvStore_History(&hist, kv, "Key1", &wo);
    for (int i = 0; s == NATS_OK && i < hist.Count; i++)
    {
        char value[256];

        entryValue(value, sizeof(value), hist.Entries[i]);
        snprintf(item, sizeof(item), "%" PRIu64 ":%s:%s", kvEntry_Revision(hist.Entries[i]),
                 opName(kvEntry_Operation(hist.Entries[i])), value);
        append(line, sizeof(line), " ", item);
    }
    append(line, sizeof(line), "", "]");
    ok(p, "history Key1", s, line);
    kvEntryList_Destroy(&hist);

    snprintf(line, sizeof(line), "[");
    s = kvStore_WatchAll(&w, kv, NULL);
    /* nats.c returns a NULL entry once the initial values are delivered. */
    while (s == NATS_OK)
    {
        s = kvWatcher_Next(&e, w, STEP_TIMEOUT_MS);
        if (s != NATS_OK || e == NULL)
            break;
        shortLine(item, sizeof(item), e);
        append(line, sizeof(line), " ", item);
        kvEntry_Destroy(e);
        e = NULL;
    }
    append(line, sizeof(line), "", "]");
    ok(p, "watch initial", s, line);
    /* The live put runs even without a watcher, so every client prints the same steps. */
    s2 = kvStore_PutString(&rev, kv, "Key1", "Value4");
    revLine(line, sizeof(line), rev);
    ok(p, "put Key1=Value4", s2, line);
    if (s != NATS_OK)
    {
        failed = 1;
        printf("%s watch live: FAIL no watcher\n", p);
    }
    else
    {
        line[0] = '\0';
        s = kvWatcher_Next(&e, w, STEP_TIMEOUT_MS);
        if (s == NATS_OK && e == NULL)
        {
            failed = 1;
            printf("%s watch live: FAIL unexpected end-of-initial marker\n", p);
        }
        else
        {
            if (s == NATS_OK)
            {
                shortLine(item, sizeof(item), e);
                snprintf(line, sizeof(line), "%s delta=%" PRIu64, item, kvEntry_Delta(e));
            }
            ok(p, "watch live", s, line);
        }
        kvEntry_Destroy(e);
    }
    kvWatcher_Destroy(w);
}

int
main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    natsOptions *opts = NULL;
    jsCtx *js = NULL;
    jsOptions jo;
    kvStore *kv = NULL;
    kvConfig cfg;
    natsStatus s;
    char line[256];

    /* Line-buffered, so a crash still leaves the steps done so far in the transcript. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
    {
        fprintf(stderr, "usage: walk <url> [consumer-steps 0|1]\n");
        return 2;
    }
    s = natsOptions_Create(&opts);
    if (s == NATS_OK)
        s = natsOptions_SetURL(opts, argv[1]);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(opts, STEP_TIMEOUT_MS);
    if (s == NATS_OK)
        s = natsConnection_Connect(&nc, opts);
    if (s == NATS_OK)
    {
        jsOptions_Init(&jo);
        jo.Wait = STEP_TIMEOUT_MS;
        s = natsConnection_JetStream(&js, nc, &jo);
    }
    if (s != NATS_OK)
    {
        fprintf(stderr, "connect: %s\n", errText(s));
        return 2;
    }

    kvConfig_Init(&cfg);
    cfg.Bucket = "walk";
    cfg.History = 5;
    s = js_CreateKeyValue(&kv, js, &cfg);
    snprintf(line, sizeof(line), "bucket=%s", s == NATS_OK ? kvStore_Bucket(kv) : "");
    ok("base", "create_bucket walk history=5", s, line);
    if (s == NATS_OK)
    {
        base(js, kv);
        if (argc < 3 || strcmp(argv[2], "0") != 0)
            consumers(kv);
    }

    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
    nats_Close();
    return failed;
}
