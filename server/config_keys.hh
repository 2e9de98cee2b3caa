// SPDX-License-Identifier: Apache-2.0
// The registry of configuration keys: name, type, default, allowed values, doc, whether it can
// change at run time. Add a key here and docs/configuration.md must follow
// (tests/unit/server/config_test.cc compares them). Being constexpr, the table also lets
// `cfg.get<"key">()` check the key's name and type at compile time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace tv::server {

enum class key_type { integer, size, string, choice };

struct config_key {
    std::string_view name;
    key_type type;
    std::string_view default_value;
    std::string_view doc;
    bool runtime_mutable;        // changeable with /api/update_config (and ADMIN SET FRONTEND CONFIG)
    int64_t min = 0;             // integer and size keys
    int64_t max = 0;
    std::span<const std::string_view> choices = {};  // choice keys
};

inline constexpr std::string_view log_level_choices[] = {"debug", "info", "warn", "error"};
inline constexpr std::string_view boolean_choices[] = {"false", "true"};

inline constexpr config_key config_key_table[] = {
    {"data_dir", key_type::string, "./tv-data",
     "Directory holding the journal, the catalog image and tablet data. Created if missing; one server per "
     "directory (a lock file enforces it).",
     false},
    {"bind_address", key_type::string, "0.0.0.0",
     "Address the HTTP and MySQL listeners bind to (an IPv4 or IPv6 literal).", false},
    {"query_port", key_type::integer, "9030",
     "MySQL protocol port: `mysql -h127.0.0.1 -P9030 -uroot`. 0 picks a free port and logs it.", false, 0,
     65535},
    {"qe_max_connection", key_type::integer, "4096",
     "Most MySQL connections at once; beyond it a client gets error 1040 (Too many connections).", false, 1,
     1000000},
    {"connect_timeout", key_type::integer, "10",
     "Seconds a MySQL client has to complete the handshake and log in before it is disconnected.", false, 1,
     3600},
    {"root_password", key_type::string, "",
     "Password of the built-in `root` user, applied at every start. Empty means no password (the server "
     "warns at start-up when bind_address is not a loopback address).",
     false},
    {"http_port", key_type::integer, "8030",
     "HTTP port: /api/health, /api/update_config (root or db_admin, HTTP Basic auth) and Stream Load. 0 picks a "
     "free port and logs it.",
     false, 0, 65535},
    {"http_max_connections", key_type::integer, "1024",
     "Most HTTP connections at once; beyond it a new connection is answered 503 and closed at once.", true, 1,
     1000000},
    {"http_header_timeout_seconds", key_type::integer, "10",
     "Seconds a client has to send a request's line and headers, counted from the connection (or from the "
     "first byte of a later request); a slower client is disconnected.",
     true, 1, 3600},
    {"http_idle_timeout_seconds", key_type::integer, "60",
     "Seconds an HTTP connection may wait on its client: between requests, between two pieces of a body "
     "(Stream Load) and while the client does not take our answer. Time the server spends writing rows does "
     "not count.",
     true, 1, 86400},
    {"metrics_require_auth", key_type::choice, "false",
     "Whether a metrics endpoint asks for HTTP Basic auth (any user with the right password, no grant "
     "needed); false leaves it open to anyone who reaches http_port.",
     true, 0, 0, boolean_choices},
    {"io_threads", key_type::integer, "0",
     "Event loops, one io_uring ring and one thread each. 0 means one per CPU core.", false, 0, 256},
    {"io_queue_depth", key_type::integer, "256",
     "Submission queue entries per ring; up to twice as many operations may be in the kernel per loop, "
     "the rest wait in the loop.",
     false, 8, 32768},
    {"segment_max_bytes", key_type::integer, "1073741824",
     "Largest segment file a load writes, in bytes; a tablet's rows beyond it go to further segments of the "
     "same rowset.",
     false, 65536, int64_t{1} << 40},
    {"write_buffer_size", key_type::integer, "104857600",
     "Bytes of rows a load buffers per tablet before writing them as a segment file: bounds a load's memory "
     "whatever its size (StarRocks' BE key of the same name).",
     false, 65536, int64_t{16} << 30},
    {"upload_worker_count", key_type::integer, "0",
     "Workers a backup uploads with, spread over the loops past the first (one more on the first takes only small files "
     "and packs). Each moves four parts at once and, to an S3 store, begins its next file while the last one "
     "completes, so up to twice this many files are open. 0 means one per CPU core. Memory stays within "
     "transfer_memory_limit whatever this is.",
     false, 0, 4096},
    {"download_worker_count", key_type::integer, "0",
     "Workers a restore downloads with; as for uploads, each moves four parts at once and begins its next file while "
     "the last one is checked and published. 0 means one per CPU core.",
     false, 0, 4096},
    {"max_upload_speed_kbps", key_type::integer, "0",
     "Upload rate limit shared by every running job, in KB/s (1 KB = 1024 bytes). 0 means unlimited. A change "
     "applies to running transfers within a second.",
     true, 0, int64_t{1} << 40},
    {"max_download_speed_kbps", key_type::integer, "50000",
     "Download rate limit shared by every running job, in KB/s (StarRocks' default, 50000). 0 means "
     "unlimited. A change applies to running transfers within a second.",
     true, 0, int64_t{1} << 40},
    {"multipart_threshold", key_type::size, "64M",
     "Objects at least this large go to S3 as multipart uploads; smaller ones in one PUT.", false,
     int64_t{5} << 20, int64_t{5} << 30},
    {"multipart_part_size", key_type::size, "16M",
     "Part size of multipart uploads and of ranged downloads, which is also the transfer buffer size. "
     "Shrunk to fit four buffers in transfer_memory_limit.",
     false, int64_t{5} << 20, int64_t{5} << 30},
    {"transfer_memory_limit", key_type::size, "256M",
     "Memory for file data in flight, shared by every transfer: a fixed pool of multipart_part_size buffers, "
     "allocated once (each buffer also holds 64 KiB beyond its part, so a file's small remainder rides with its "
     "last part: 1 MiB more on the default 16 buffers). Concurrency adapts to it instead of exceeding it.",
     false, int64_t{20} << 20, int64_t{1} << 40},
    {"query_pool_mem_limit", key_type::size, "0",
     "Memory all running statements together may hold (parsed statement text, DISTINCT keys, groups, rows "
     "waiting for ORDER BY, result rows), apart from transfer_memory_limit. 0 means 80% of physical memory. A "
     "statement that would pass it fails with error 1064 (Mem usage has exceed the limit of query pool) and the "
     "server goes on; each statement is also held to the session's query_mem_limit (or exec_mem_limit).",
     true, 0, int64_t{1} << 50},
    {"s3_request_timeout_seconds", key_type::integer, "60",
     "Seconds one S3 request may take, from sending it to the end of the answer; a request past it is abandoned "
     "and retried like a reset connection. Applies to requests of stores opened after a change.",
     true, 1, 3600},
    {"tcp_congestion_control", key_type::string, "",
     "The TCP congestion control this server sends to S3 stores with, for example cubic or bbr (one of "
     "/proc/sys/net/ipv4/tcp_available_congestion_control); empty means the kernel's default. It paces what this "
     "side sends (BACKUP's uploads); a RESTORE's data is sent by the store. The server refuses to start with one "
     "the kernel does not offer.",
     false},
    {"backup_job_default_timeout", key_type::integer, "86400",
     "Seconds a BACKUP may run when its PROPERTIES give no timeout; a job still running then is cancelled "
     "with [TIMEOUT, ...].",
     false, 1, int64_t{1} << 40},
    {"backup_pack_threshold", key_type::size, "4M",
     "Snapshot files smaller than this are uploaded packed together (one object, one request and one fsync "
     "for many files) instead of one object each.",
     false, 0, int64_t{1} << 30},
    {"backup_pack_size", key_type::size, "32M",
     "The size pack objects are filled up to.", false, int64_t{64} << 10, int64_t{1} << 30},
    {"snapshot_gc_grace_period", key_type::integer, "3600",
     "Seconds a data object no manifest references is kept after it was last written before DROP SNAPSHOT "
     "deletes it: it may belong to a backup that has not published its manifest yet; likewise the age an S3 "
     "multipart upload no job of this server continues must reach before a BACKUP aborts it "
     "(docs/repository-gc.md).",
     false, 0, int64_t{1} << 40},
    {"snapshot_repack_threshold", key_type::integer, "50",
     "Percent of a pack object's bytes that no manifest references at which DROP SNAPSHOT rewrites the pack "
     "with its live files only; 0 never repacks.",
     false, 0, 100},
    {"snapshot_ttl_check_interval_seconds", key_type::integer, "300",
     "Seconds between two rounds of the snapshot TTL sweep, which drops the snapshots of every repository that "
     "is not READ ONLY whose ttl (BACKUP PROPERTIES) has passed, as DROP SNAPSHOT does; 0 turns it off.",
     true, 0, int64_t{1} << 30},
    {"repository_lease_timeout", key_type::integer, "600",
     "Seconds after its last refresh a BACKUP's or DROP SNAPSHOT's lease in a repository (__lock/) counts as "
     "abandoned. Holders refresh every third of it; servers sharing a repository need clocks within it.",
     false, 3, int64_t{1} << 30},
    {"local_repository_roots", key_type::string, "",
     "Comma-separated absolute directories local repositories (CREATE REPOSITORY ON LOCATION \"/dir\" or "
     "\"file:///dir\") must lie in, after symlinks are resolved. Empty means anywhere outside data_dir; the "
     "server then warns at start-up when it runs as root.",
     false},
    {"log_level", key_type::choice, "info", "Least severe log level written.", true, 0, 0,
     log_level_choices},
    {"log_file", key_type::string, "",
     "File the log is appended to; empty means standard error.", false},
};

/// A key name as a template argument: `cfg.get<"data_dir">()`.
template <size_t N>
struct key_literal {
    char text[N];
    consteval key_literal(const char (&name)[N]) {
        for (size_t i = 0; i < N; ++i) {
            text[i] = name[i];
        }
    }
    constexpr std::string_view view() const { return {text, N - 1}; }
};

/// The registry entry of `name`; a name not in the table does not compile.
consteval const config_key& declared_key(std::string_view name) {
    for (const auto& key : config_key_table) {
        if (key.name == name) {
            return key;
        }
    }
    throw "no such configuration key in config_key_table";  // not a constant expression: a compile error
}

}  // namespace tv::server
