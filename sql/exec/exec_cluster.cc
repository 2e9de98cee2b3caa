// SPDX-License-Identifier: Apache-2.0
// SHOW FRONTENDS, SHOW BACKENDS and SHOW PROC '/frontends' | '/backends': this one process is
// the whole cluster, so it lists itself once as the leader frontend and once as the backend
// holding every tablet, in StarRocks 3.4's columns, with figures read when asked.
#include "io/file.hh"
#include "sql/connections.hh"
#include "sql/exec/executor.hh"
#include "sql/privileges.hh"
#include "storage/catalog.hh"
#include "storage/table_scan.hh"
#include "tv_version.hh"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <thread>

namespace tv::sql {

namespace {

/// StarRocks' capacity text: "0.000 B", "1.442 KB", "3.000 GB" (1024-based, 3 decimals).
std::string capacity_text(uint64_t bytes) {
    static constexpr const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    return fmt::format("{:.3f} {}", value, units[unit]);
}

/// "24.90 %": StarRocks' percentages.
std::string percent_text(double part, double whole, int decimals = 2) {
    return fmt::format("{:.{}f} %", whole > 0 ? 100.0 * part / whole : 0.0, decimals);
}

struct data_usage {
    uint64_t tablets = 0;
    uint64_t bytes = 0;
};

/// Every tablet the catalog holds (each index of each partition, and the storage of
/// asynchronous materialized views) and the bytes of their published segment files.
data_usage usage_of(const storage::catalog& c) {
    data_usage out;
    auto add = [&](const storage::partition& p) {
        for (const auto& index : p.tablets) {
            for (storage::object_id id : index.tablet_ids) {
                ++out.tablets;
                out.bytes += storage::stats_of(c, id).data_size;
            }
        }
    };
    for (const auto& [db_name, d] : c.databases()) {
        for (const auto& [name, t] : d.tables) {
            for (const auto& p : t.partitioning.partitions) {
                add(p);
            }
        }
        for (const auto& [name, mv] : d.mvs) {
            add(mv.storage);
        }
    }
    return out;
}

/// Resident memory of this process, from /proc/self/statm (its second field, in pages).
io::task<uint64_t> resident_bytes() {
    auto opened = co_await io::open_file("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (!opened) {
        co_return 0;
    }
    std::array<char, 256> text{};
    // procfs reports a size of 0, so read into a fixed buffer instead of read_small_file.
    auto n = co_await io::read_fully(*opened, std::as_writable_bytes(std::span(text)), 0);
    co_await opened->close();
    if (!n) {
        co_return 0;
    }
    std::string_view fields(text.data(), *n);
    size_t space = fields.find(' ');
    if (space == std::string_view::npos) {
        co_return 0;
    }
    fields.remove_prefix(space + 1);
    uint64_t pages = 0;
    std::from_chars(fields.data(), fields.data() + fields.size(), pages);
    co_return pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

/// When this process began (namespace-scope statics are set before main): CPU time counts
/// from there, so the first SHOW BACKENDS must count wall time from there too.
const int64_t g_process_start_ms = unix_now_ms();

/// CPU use of this process since the previous SHOW BACKENDS (since the process began the first
/// time), over every core: the same kind of recent figure StarRocks' CpuUsedPct gives.
double cpu_used_percent(unsigned cores) {
    static int64_t last_wall_ms = 0;  // loop 0 only
    static int64_t last_cpu_us = 0;
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    const int64_t cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000LL + usage.ru_utime.tv_usec +
                           usage.ru_stime.tv_usec;
    const int64_t now = unix_now_ms();
    const int64_t since_ms = last_wall_ms != 0 ? last_wall_ms : g_process_start_ms;
    const int64_t cpu_before = last_wall_ms != 0 ? last_cpu_us : 0;
    last_wall_ms = now;
    last_cpu_us = cpu_us;
    const double wall_us = static_cast<double>(std::max<int64_t>(now - since_ms, 1)) * 1000.0 * cores;
    // Clock steps and rounding can push a short interval past what the cores can give.
    return std::clamp(100.0 * static_cast<double>(cpu_us - cpu_before) / wall_us, 0.0, 100.0);
}

statement_result frontends(exec_context& ctx) {
    const node_info& node = ctx.options.node;
    result_set rs = make_result({"Name", "IP", "EditLogPort", "HttpPort", "QueryPort", "RpcPort", "Role",
                                 "ClusterId", "Join", "Alive", "ReplayedJournalId", "LastHeartbeat", "IsHelper",
                                 "ErrMsg", "StartTime", "Version"});
    // No edit log or RPC port exists here: one process holds the whole cluster's metadata.
    rs.rows.push_back({fmt::format("{}_{}_{}", node.host, node.query_port, node.start_time_ms), node.host, "0",
                       std::to_string(node.http_port), std::to_string(node.query_port), "0", "LEADER",
                       ctx.catalog.cluster_id(), "true", "true", std::to_string(ctx.catalog.last_sequence()),
                       datetime_text(unix_now_ms()), "true", "", datetime_text(node.start_time_ms), TV_VERSION});
    return rs;
}

io::task<statement_result> backends(exec_context& ctx) {
    const node_info& node = ctx.options.node;
    result_set rs = make_result({"BackendId", "IP", "HeartbeatPort", "BePort", "HttpPort", "BrpcPort",
                                 "LastStartTime", "LastHeartbeat", "Alive", "SystemDecommissioned",
                                 "ClusterDecommissioned", "TabletNum", "DataUsedCapacity", "AvailCapacity",
                                 "TotalCapacity", "UsedPct", "MaxDiskUsedPct", "ErrMsg", "Version", "Status",
                                 "DataTotalCapacity", "DataUsedPct", "CpuCores", "NumRunningQueries", "MemUsedPct",
                                 "CpuUsedPct"});
    const std::string& dir = ctx.catalog.data_dir();
    struct statvfs fs {};
    // No io_uring operation reads file system counters; statvfs reads the superblock's, in memory.
    if (::statvfs(dir.c_str(), &fs) != 0) {
        co_return make_error(errc::unknown, "Cannot read the capacity of the data directory {}: {}", dir,
                             std::strerror(errno));
    }
    const uint64_t total = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
    const uint64_t avail = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    const data_usage data = usage_of(ctx.catalog);
    const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
    size_t running = 0;
    if (ctx.connections != nullptr) {
        for (const connection_state* c : ctx.connections->list()) {
            running += c->busy ? 1 : 0;
        }
    }
    const uint64_t resident = co_await resident_bytes();
    const double physical = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
    const std::string now = datetime_text(unix_now_ms());
    // As StarRocks: UsedPct is the disks' whole use, DataTotalCapacity what data may use
    // (its own bytes plus what is free), DataUsedPct the data's share of that.
    rs.rows.push_back({"1", node.host, "0", "0", std::to_string(node.http_port), "0", datetime_text(node.start_time_ms),
                       now, "true", "false", "false", std::to_string(data.tablets), capacity_text(data.bytes),
                       capacity_text(avail), capacity_text(total),
                       percent_text(static_cast<double>(total - avail), static_cast<double>(total)),
                       percent_text(static_cast<double>(total - avail), static_cast<double>(total)), "", TV_VERSION,
                       fmt::format("{{\"lastSuccessReportTabletsTime\":\"{}\"}}", now),
                       capacity_text(data.bytes + avail),
                       percent_text(static_cast<double>(data.bytes), static_cast<double>(data.bytes + avail)),
                       std::to_string(cores), std::to_string(running),
                       percent_text(static_cast<double>(resident), physical),
                       fmt::format("{:.1f} %", cpu_used_percent(cores))});
    co_return rs;
}

io::task<statement_result> show_proc(exec_context& ctx, const show_proc_stmt& s) {
    // StarRocks asks for the cluster-wide OPERATE privilege, held by root and cluster_admin;
    // here that is root and db_admin (docs/security.md).
    const char* name = s.proc ? "SHOW PROC" : (s.path == "/frontends" ? "SHOW FRONTENDS" : "SHOW BACKENDS");
    if (auto allowed = require_role(ctx, storage::role_db_admin, name); !allowed) {
        co_return allowed.error();
    }
    std::string path = s.path;
    while (path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    if (path == "/frontends") {
        co_return frontends(ctx);
    }
    if (path == "/backends") {
        co_return co_await backends(ctx);
    }
    co_return make_error(errc::not_supported_yet,
                         "SHOW PROC '{}' is not supported: only '/frontends' and '/backends' are", s.path);
}

}  // namespace

io::task<std::optional<statement_result>> execute_cluster_statement(exec_context& ctx, const statement& stmt) {
    if (const auto* s = std::get_if<show_proc_stmt>(&stmt)) {
        co_return co_await show_proc(ctx, *s);
    }
    co_return std::nullopt;
}

}  // namespace tv::sql
