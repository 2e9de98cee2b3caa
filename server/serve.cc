// SPDX-License-Identifier: Apache-2.0
// Server start-up and shutdown.
#include "server/serve.hh"

#include "io/durable_file.hh"
#include "io/failpoint.hh"
#include "io/gate.hh"
#include "io/log.hh"
#include "io/loop_group.hh"
#include "io/ops.hh"
#include "io/socket.hh"
#include "io/sync_wait.hh"
#include "jobs/job_tracker.hh"
#include "jobs/snapshot_ttl.hh"
#include "remote/local_location.hh"
#include "remote/repository.hh"
#include "server/http_api.hh"
#include "server/transfers.hh"
#include "sql/exec/engine.hh"
#include "sql/protocol/mysql_server.hh"
#include "sql/query_guard.hh"
#include "storage/catalog.hh"
#include "tv_version.hh"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

namespace tv::server {

namespace {

/// Whether only this host can reach a listener bound to `address`.
bool is_loopback_address(std::string_view address) {
    return address.starts_with("127.") || address == "::1" || address == "localhost";
}

/// Holds <data_dir>/LOCK with flock for the life of the process: two servers on one data
/// directory would corrupt each other's journal.
class data_dir_lock {
public:
    data_dir_lock() = default;
    data_dir_lock(const data_dir_lock&) = delete;
    data_dir_lock& operator=(const data_dir_lock&) = delete;
    ~data_dir_lock() {
        if (_fd >= 0) {
            ::close(_fd);
        }
    }

    std::optional<std::string> acquire(const std::string& dir) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            return fmt::format("cannot create data_dir '{}': {}", dir, ec.message());
        }
        std::string path = dir + "/LOCK";
        _fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (_fd < 0) {
            return fmt::format("cannot open '{}': {}", path, io::errno_text(errno));
        }
        if (::flock(_fd, LOCK_EX | LOCK_NB) < 0) {
            char owner[32] = {};
            [[maybe_unused]] ssize_t n = ::pread(_fd, owner, sizeof(owner) - 1, 0);
            return fmt::format("data_dir '{}' is in use by another tabletvault process (pid {})", dir,
                               std::string_view(owner).substr(0, std::string_view(owner).find('\n')));
        }
        std::string pid = fmt::format("{}\n", ::getpid());
        [[maybe_unused]] int rc = ::ftruncate(_fd, 0);
        [[maybe_unused]] ssize_t n = ::pwrite(_fd, pid.data(), pid.size(), 0);
        return std::nullopt;
    }

private:
    int _fd = -1;
};

/// What the SQL layer may see of the configuration: listing, and run-time changes through the
/// same validation as /api/update_config.
/// The query memory pool's limit from query_pool_mem_limit (0: 80% of physical memory).
void apply_query_pool_limit(const config& cfg) {
    int64_t limit = cfg.get<"query_pool_mem_limit">();
    if (limit == 0) {
        const long pages = ::sysconf(_SC_PHYS_PAGES);
        const long page_size = ::sysconf(_SC_PAGE_SIZE);
        limit = pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size / 10 * 8 : 0;
    }
    sql::query_memory_pool::set_limit(limit);
}

/// Makes run-time configuration changes take effect.
void apply_changed_config(const config& cfg, transfer_service& transfers) {
    transfers.apply(cfg);
    remote::set_s3_request_timeout(std::chrono::seconds(cfg.get<"s3_request_timeout_seconds">()));
    apply_query_pool_limit(cfg);
}

/// The address SHOW FRONTENDS and SHOW BACKENDS give: the one listened on, or for a wildcard
/// address the host's name, which is how other machines reach it.
std::string node_host(const std::string& bind) {
    if (bind != "0.0.0.0" && bind != "::" && !bind.empty()) {
        return bind;
    }
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
        return bind;
    }
    return name;
}

sql::engine_options engine_options_for(config& cfg, io::loop_group& loops, transfer_service& transfers) {
    sql::engine_options options;
    options.data.data_dir = cfg.get<"data_dir">();
    options.data.segment_max_bytes = static_cast<uint64_t>(cfg.get<"segment_max_bytes">());
    options.data.write_buffer_bytes = static_cast<uint64_t>(cfg.get<"write_buffer_size">());
    options.data.loops = &loops;
    // Checked at start-up (serve()), so an unparsable list never gets here.
    if (auto roots = remote::parse_local_roots(cfg.get<"local_repository_roots">())) {
        options.local_repository_roots = std::move(*roots);
    }
    options.list_config = [&cfg] {
        std::vector<sql::config_entry> entries;
        for (const auto& key : config_keys()) {
            std::string value = key.name == "root_password" ? std::string("******") : cfg.text_of(key.name);
            entries.push_back({std::string(key.name), value, std::string(key_type_name(key.type)), key.runtime_mutable,
                               std::string(key.doc)});
        }
        return entries;
    };
    options.set_config = [&cfg, &transfers](const std::vector<std::pair<std::string, std::string>>& changes) {
        auto error = apply_runtime_changes(cfg, changes);
        if (!error) {
            apply_changed_config(cfg, transfers);
        }
        return error;
    };
    return options;
}

io::task<int> run_until_signal(int signal_fd, config& cfg, io::loop_group& loops, transfer_service& transfers,
                               http_api_context& http_ctx, int http_fd,
                               int mysql_fd, sql::node_info node) {
    storage::catalog_options catalog_options;
    catalog_options.root_password = cfg.get<"root_password">();
    // The job tracker sweeps, once it has read the restores it resumes and before it runs any:
    // a restore stopped in COMMIT has its files in tablet directories no rowset references yet.
    catalog_options.sweep_orphans_at_open = false;
    auto opened = co_await storage::catalog::open(cfg.get<"data_dir">(), catalog_options);
    if (!opened) {
        TV_LOG_ERROR("refusing to start: cannot open the catalog: {}", opened.error().message);
        co_return 1;
    }
    std::unique_ptr<storage::catalog> catalog = std::move(*opened);
    jobs::tracker_options job_options;
    job_options.data_dir = cfg.get<"data_dir">();
    job_options.default_timeout_s = cfg.get<"backup_job_default_timeout">();
    job_options.packing.threshold = static_cast<uint64_t>(cfg.get<"backup_pack_threshold">());
    job_options.packing.pack_size = static_cast<uint64_t>(cfg.get<"backup_pack_size">());
    job_options.gc.grace_ms = cfg.get<"snapshot_gc_grace_period">() * 1000;
    job_options.gc.repack_threshold_pct = cfg.get<"snapshot_repack_threshold">();
    job_options.gc.lease_timeout_ms = cfg.get<"repository_lease_timeout">() * 1000;
    job_options.upload_options = [&transfers] { return transfers.options(pipeline::direction::upload); };
    job_options.download_options = [&transfers] { return transfers.options(pipeline::direction::download); };
    job_options.sweep_orphan_files = true;  // the catalog above did not: the tracker knows what to keep
    auto tracker = co_await jobs::job_tracker::open(*catalog, transfers.engine(), job_options);
    if (!tracker) {
        TV_LOG_ERROR("refusing to start: cannot open the job store: {}", tracker.error().message);
        co_await catalog->close();
        co_return 1;
    }
    sql::engine_options options = engine_options_for(cfg, loops, transfers);
    options.jobs = tracker->get();
    options.node = std::move(node);
    sql::engine engine(*catalog, std::move(options));
    http_ctx.catalog = catalog.get();
    http_ctx.data = &engine.options().data;
    http_ctx.jobs = tracker->get();

    io::gate services;
    std::stop_source stop;
    sql::mysql_server_options mysql_options;
    mysql_options.max_connections = static_cast<size_t>(cfg.get<"qe_max_connection">());
    mysql_options.connect_timeout = std::chrono::seconds(cfg.get<"connect_timeout">());
    io::spawn(services, sql::run_mysql_server(mysql_fd, engine, mysql_options, stop.get_token()), "mysql server");
    io::spawn(services, run_http_api(http_fd, http_ctx, stop.get_token()), "http api");
    io::spawn(services, engine.run_refresh_schedule(stop.get_token()), "materialized view refresh schedule");
    auto ttl_settings = [&cfg, gc = (*tracker)->drop_options()] {
        return jobs::ttl_sweep_settings{cfg.get<"snapshot_ttl_check_interval_seconds">(), gc};
    };
    io::spawn(services, jobs::run_snapshot_ttl_sweep(*catalog, ttl_settings, stop.get_token()), "snapshot ttl sweep");
    TV_LOG_INFO("ready");

    signalfd_siginfo info{};
    auto got = co_await io::read(signal_fd, std::as_writable_bytes(std::span(&info, 1)), 0);
    if (got) {
        TV_LOG_INFO("received {}, shutting down", ::strsignal(static_cast<int>(info.ssi_signo)));
    } else {
        TV_LOG_ERROR("reading signals failed ({}), shutting down", got.error().message());
    }
    // Stop taking work, cancel what is in flight, then wait for every holder of the gate.
    stop.request_stop();
    co_await services.close();
    http_ctx.jobs = nullptr;
    // Jobs stop where they are, journaled, and resume at the next start.
    co_await (*tracker)->close();
    if (auto closed = co_await catalog->close(); !closed) {
        TV_LOG_ERROR("closing the catalog failed: {}", closed.error().message);
        co_return 1;
    }
    co_return 0;
}

/// Sets the congestion control for connections to S3 stores, or says why it cannot be used.
std::optional<std::string> apply_congestion_control(const std::string& name) {
    if (!name.empty()) {
        if (auto usable = io::check_congestion_control(name); !usable) {
            std::string available;
            std::getline(std::ifstream("/proc/sys/net/ipv4/tcp_available_congestion_control"), available);
            // Only a process with CAP_NET_ADMIN makes the kernel load a module by that name.
            std::string why = usable.error() == std::errc::no_such_file_or_directory
                                  ? (::geteuid() == 0 ? "this kernel has no such TCP congestion control"
                                                      : fmt::format("no such TCP congestion control is loaded, and "
                                                                    "only root can load one (modprobe tcp_{})",
                                                                    name))
                              : usable.error() == std::errc::operation_not_permitted
                                  ? "not in net.ipv4.tcp_allowed_congestion_control, which binds unprivileged users"
                                  : usable.error().message();
            return fmt::format("tcp_congestion_control = {}: {} (loaded now: {})", name, why,
                               available.empty() ? "unknown" : available);
        }
    }
    remote::set_tcp_congestion_control(name);
    return std::nullopt;
}

}  // namespace

int serve(config cfg, io::opcode_probe& probe) {
    log::set_level(*log::parse_level(cfg.get<"log_level">()));
    if (auto error = log::set_file(cfg.get<"log_file">())) {
        TV_LOG_ERROR("{}", *error);
        return 1;
    }
    if (auto bad = io::configure_failpoints_from_env(); !bad.empty()) {
        TV_LOG_ERROR("refusing to start: {}", bad);
        return 1;
    }
    if (auto refusal = io::refusal_reason(probe)) {
        TV_LOG_ERROR("refusing to start: {}", *refusal);
        return 1;
    }
    auto roots = remote::parse_local_roots(cfg.get<"local_repository_roots">());
    if (!roots) {
        TV_LOG_ERROR("refusing to start: {}", roots.error().message);
        return 1;
    }
    if (auto refusal = apply_congestion_control(cfg.get<"tcp_congestion_control">())) {
        TV_LOG_ERROR("refusing to start: {}", *refusal);
        return 1;
    }
    if (roots->empty() && ::geteuid() == 0) {
        TV_LOG_WARN("running as root with local_repository_roots empty: CREATE REPOSITORY (db_admin) may create "
                    "directories anywhere outside the data directory; list the allowed directories in "
                    "local_repository_roots, or run as an unprivileged user");
    }
    if (cfg.get<"root_password">().empty() && !is_loopback_address(cfg.get<"bind_address">())) {
        TV_LOG_WARN("root has no password and the server listens on {}: anyone who can reach its MySQL port is root; "
                    "set root_password, or bind_address = 127.0.0.1",
                    cfg.get<"bind_address">());
    }
    data_dir_lock lock;
    if (auto error = lock.acquire(cfg.get<"data_dir">())) {
        TV_LOG_ERROR("refusing to start: {}", *error);
        return 1;
    }
    // With the lock held no other writer is here: every temporary name (io::temp_marker) under
    // the data dir is a write a crash cut short.
    if (auto swept = io::sweep_temp_files(cfg.get<"data_dir">()); !swept) {
        TV_LOG_ERROR("refusing to start: cannot sweep temporary files: {}", swept.error().message());
        return 1;
    } else if (*swept != 0) {
        TV_LOG_INFO("removed {} temporary files left by an interrupted write", *swept);
    }

    // Signals arrive through a signalfd read on loop 0; block them in every thread first
    // (threads inherit the mask), and never die of SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    int signal_fd = ::signalfd(-1, &signals, SFD_CLOEXEC);
    if (signal_fd < 0) {
        TV_LOG_ERROR("refusing to start: signalfd: {}", io::errno_text(errno));
        return 1;
    }

    const std::string bind = cfg.get<"bind_address">();
    auto mysql = io::listen_tcp(bind, static_cast<uint16_t>(cfg.get<"query_port">()));
    if (!mysql) {
        TV_LOG_ERROR("refusing to start: cannot listen for MySQL clients on {}:{}: {}", bind, cfg.get<"query_port">(),
                     mysql.error().message());
        ::close(signal_fd);
        return 1;
    }
    auto http = io::listen_tcp(bind, static_cast<uint16_t>(cfg.get<"http_port">()));
    if (!http) {
        TV_LOG_ERROR("refusing to start: cannot listen for HTTP on {}:{}: {}", bind, cfg.get<"http_port">(),
                     http.error().message());
        ::close(signal_fd);
        return 1;
    }

    int exit_code = 0;
    try {
        io::loop_options options;
        options.entries = static_cast<unsigned>(cfg.get<"io_queue_depth">());
        io::loop_group loops(static_cast<unsigned>(cfg.get<"io_threads">()), options);
        TV_LOG_INFO("tabletvault {} serving: data_dir={} io_threads={}", TV_VERSION, cfg.get<"data_dir">(),
                    loops.size());
        TV_LOG_INFO("mysql: listening on {}:{}", bind, mysql->port);
        TV_LOG_INFO("http: listening on {}:{}", bind, http->port);
        transfer_service transfers(cfg, loops);
        http_api_context http_ctx{cfg};
        http_ctx.transfers = &transfers;
        http_ctx.config_changed = [&transfers](const config& changed) { apply_changed_config(changed, transfers); };
        apply_query_pool_limit(cfg);
        remote::set_s3_request_timeout(std::chrono::seconds(cfg.get<"s3_request_timeout_seconds">()));
        sql::node_info node{node_host(bind), mysql->port, http->port, sql::unix_now_ms()};
        exit_code = io::sync_wait(loops.main_loop(), run_until_signal(signal_fd, cfg, loops, transfers, http_ctx,
                                                                      http->fd.get(), mysql->fd.get(), node));
        loops.stop();
        if (exit_code == 0) {
            TV_LOG_INFO("shutdown complete");
        }
    } catch (const std::exception& e) {
        TV_LOG_ERROR("fatal: {}", e.what());
        exit_code = 1;
    }
    ::close(signal_fd);
    return exit_code;
}

}  // namespace tv::server
