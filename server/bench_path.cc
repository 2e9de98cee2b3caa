// SPDX-License-Identifier: Apache-2.0
// `tabletvault bench-path`: measures a storage path (a directory or an object store) with the
// transfer engine backups use. Generates files, uploads and/or downloads them through the
// pipeline, prints MB/s, files/s and per-request latency percentiles, then removes what it wrote.
#include "server/bench_path.hh"

#include "io/loop_group.hh"
#include "io/sync_wait.hh"
#include "remote/repository.hh"
#include "remote/repository_config.hh"
#include "server/transfers.hh"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace tv::server {

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

/// Request latencies by operation kind, from every loop.
class latency_book {
public:
    void add(const std::string& kind, clock_type::duration d) {
        std::lock_guard lock(_mutex);
        _samples[kind].push_back(std::chrono::duration<double, std::milli>(d).count());
    }
    void print() {
        std::lock_guard lock(_mutex);
        for (auto& [kind, samples] : _samples) {
            std::sort(samples.begin(), samples.end());
            auto at = [&](double q) { return samples[static_cast<size_t>(q * static_cast<double>(samples.size() - 1))]; };
            fmt::print("  {:<14} {:>7} requests   p50 {:>9.2f} ms   p99 {:>9.2f} ms\n", kind, samples.size(), at(0.5),
                       at(0.99));
        }
        _samples.clear();
    }

private:
    std::mutex _mutex;
    std::map<std::string, std::vector<double>> _samples;
};

class timed_upload final : public remote::object_upload {
public:
    timed_upload(std::unique_ptr<remote::object_upload> inner, latency_book* book)
        : _inner(std::move(inner)), _book(book) {}
    io::task<remote::remote_result<remote::uploaded_part>> write_part(int number, uint64_t offset,
                                                                      std::span<const std::byte> data,
                                                                      remote::call_options call,
                                                                      remote::body_pacer pacer) override {
        auto start = clock_type::now();
        auto r = co_await _inner->write_part(number, offset, data, std::move(call), std::move(pacer));
        _book->add("upload part", clock_type::now() - start);
        co_return r;
    }
    io::task<remote::remote_result<void>> complete(std::vector<remote::uploaded_part> parts,
                                                   remote::call_options call) override {
        auto start = clock_type::now();
        auto r = co_await _inner->complete(std::move(parts), std::move(call));
        _book->add("complete", clock_type::now() - start);
        co_return r;
    }
    io::task<remote::remote_result<void>> abort(remote::call_options call) override {
        co_return co_await _inner->abort(std::move(call));
    }
    const std::string& upload_id() const override { return _inner->upload_id(); }

private:
    std::unique_ptr<remote::object_upload> _inner;
    latency_book* _book;
};

/// An object_store that times every request it forwards.
class timed_store final : public remote::object_store {
public:
    timed_store(std::unique_ptr<remote::object_store> inner, latency_book* book)
        : _inner(std::move(inner)), _book(book) {}

    io::task<remote::remote_result<void>> put(std::string key, std::span<const std::byte> data,
                                              remote::call_options call, remote::body_pacer pacer) override {
        auto start = clock_type::now();
        auto r = co_await _inner->put(std::move(key), data, std::move(call), std::move(pacer));
        _book->add("put", clock_type::now() - start);
        co_return r;
    }
    io::task<remote::remote_result<std::string>> get(std::string key, std::optional<remote::byte_range> range,
                                                     remote::call_options call) override {
        co_return co_await _inner->get(std::move(key), std::move(range), std::move(call));
    }
    io::task<remote::remote_result<remote::object_info>> head(std::string key, remote::call_options call) override {
        auto start = clock_type::now();
        auto r = co_await _inner->head(std::move(key), std::move(call));
        _book->add("head", clock_type::now() - start);
        co_return r;
    }
    io::task<remote::remote_result<std::vector<remote::object_info>>> list(std::string prefix,
                                                                           remote::call_options call) override {
        co_return co_await _inner->list(std::move(prefix), std::move(call));
    }
    io::task<remote::remote_result<void>> remove(std::vector<std::string> keys, remote::call_options call) override {
        co_return co_await _inner->remove(std::move(keys), std::move(call));
    }
    io::task<remote::remote_result<size_t>> read(std::string key, uint64_t offset, std::span<std::byte> into,
                                                 remote::call_options call, remote::body_pacer pacer) override {
        auto start = clock_type::now();
        auto r = co_await _inner->read(std::move(key), offset, into, std::move(call), std::move(pacer));
        _book->add("ranged get", clock_type::now() - start);
        co_return r;
    }
    io::task<remote::remote_result<std::unique_ptr<remote::object_upload>>> begin_upload(
        std::string key, remote::call_options call) override {
        auto start = clock_type::now();
        auto r = co_await _inner->begin_upload(std::move(key), std::move(call));
        _book->add("begin upload", clock_type::now() - start);
        if (!r) {
            co_return r.error();
        }
        std::unique_ptr<remote::object_upload> wrapped = std::make_unique<timed_upload>(std::move(*r), _book);
        co_return wrapped;
    }
    io::task<remote::remote_result<remote::resumed_upload>> resume_upload(std::string key, std::string upload_id,
                                                                         remote::call_options call) override {
        co_return co_await _inner->resume_upload(std::move(key), std::move(upload_id), std::move(call));
    }
    std::string describe() const override { return _inner->describe(); }

private:
    std::unique_ptr<remote::object_store> _inner;
    latency_book* _book;
};

/// Writes `count` files of `size` random bytes (one random block repeated with a per-file
/// stamp: cheap to make, never all equal, and incompressible enough for storage paths).
std::optional<std::string> generate_files(const std::string& dir, uint64_t count, uint64_t size) {
    fs::create_directories(dir);
    std::string block(1 << 20, '\0');
    std::mt19937_64 random(42);
    for (size_t i = 0; i < block.size(); i += 8) {
        uint64_t v = random();
        std::memcpy(block.data() + i, &v, 8);
    }
    for (uint64_t f = 0; f < count; ++f) {
        std::string path = fmt::format("{}/f{:06}", dir, f);
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            return fmt::format("create {}: {}", path, std::strerror(errno));
        }
        std::memcpy(block.data(), &f, sizeof(f));
        for (uint64_t done = 0; done < size;) {
            size_t n = static_cast<size_t>(std::min<uint64_t>(block.size(), size - done));
            if (::write(fd, block.data(), n) != static_cast<ssize_t>(n)) {
                ::close(fd);
                return fmt::format("write {}: {}", path, std::strerror(errno));
            }
            done += n;
        }
        ::close(fd);
    }
    return std::nullopt;
}

/// Samples a byte counter once a second while a transfer runs; prints each window, and for a
/// limited run how far the worst 10-second window strayed from the limit and, after a limit
/// change, how long the new rate took to show.
class rate_sampler {
public:
    rate_sampler(std::function<uint64_t()> counter, const bench_path_args& args, transfer_service& transfers,
                 pipeline::direction way)
        : _counter(std::move(counter)), _args(args), _transfers(transfers), _way(way) {
        _thread = std::thread([this] { sample(); });
    }
    ~rate_sampler() { finish(); }

    void finish() {
        if (_thread.joinable()) {
            _running = false;
            _thread.join();
            report();
        }
    }

private:
    void set_limit(int64_t kbps) {
        auto bytes = pipeline::kbps_to_bytes_per_second(kbps);
        auto& limit = _way == pipeline::direction::upload ? _transfers.upload_limit() : _transfers.download_limit();
        limit.set_rate(bytes);
    }

    void sample() {
        auto start = clock_type::now();
        uint64_t last = _counter();
        bool changed = false;
        for (int second = 1; _running; ++second) {
            auto until = start + std::chrono::seconds(second);
            while (_running && clock_type::now() < until) {
                if (!changed && _args.change_after_s > 0 &&
                    clock_type::now() - start >= std::chrono::duration<double>(_args.change_after_s)) {
                    set_limit(_args.change_to_kbps);
                    changed = true;
                    _changed_at = second - 1;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            if (!_running) {
                break;  // a partial last window would read low
            }
            uint64_t now = _counter();
            _windows.push_back(static_cast<double>(now - last));
            last = now;
        }
    }

    void report() const {
        double before = static_cast<double>(pipeline::kbps_to_bytes_per_second(_args.limit_kbps));
        double after = static_cast<double>(pipeline::kbps_to_bytes_per_second(_args.change_to_kbps));
        auto limit_at = [&](size_t i) {
            return _changed_at >= 0 && static_cast<int>(i) >= _changed_at ? after : before;
        };
        if (_args.windows) {
            for (size_t i = 0; i < _windows.size(); ++i) {
                double limit = limit_at(i);
                fmt::print("  window {:>3}: {:>8.2f} MB/s{}\n", i + 1, _windows[i] / 1e6,
                           limit > 0 ? fmt::format("  ({:+.2f}% of the limit)", (_windows[i] - limit) / limit * 100)
                                     : std::string());
            }
        }
        // The worst 10-second window wholly under one limit, skipping the first second (the
        // bucket starts empty) and the second in which the limit changed.
        double worst = 0;
        bool any = false;
        for (size_t i = 1; i + 10 <= _windows.size(); ++i) {
            double limit = limit_at(i);
            if (limit <= 0 || limit_at(i + 9) != limit ||
                (_changed_at >= 0 && static_cast<int>(i) <= _changed_at && static_cast<int>(i + 9) >= _changed_at)) {
                continue;
            }
            double sum = 0;
            for (size_t k = i; k < i + 10; ++k) {
                sum += _windows[k];
            }
            double error = (sum / 10 - limit) / limit * 100;
            if (!any || std::abs(error) > std::abs(worst)) {
                worst = error;
                any = true;
            }
        }
        if (any) {
            fmt::print("  worst 10-second window: {:+.2f}% of the limit\n", worst);
        }
        if (_changed_at >= 0 && after > 0) {
            for (size_t i = static_cast<size_t>(_changed_at); i < _windows.size(); ++i) {
                if (std::abs(_windows[i] - after) / after <= 0.02) {
                    fmt::print("  limit changed at {:.1f} s: the new rate showed in window {} ({:.1f} s later)\n",
                               _args.change_after_s, i + 1, static_cast<double>(i + 1) - _args.change_after_s);
                    break;
                }
            }
        }
    }

    std::function<uint64_t()> _counter;
    const bench_path_args& _args;
    transfer_service& _transfers;
    pipeline::direction _way;
    std::atomic<bool> _running{true};
    std::vector<double> _windows;
    int _changed_at = -1;
    std::thread _thread;
};

void print_report(const char* what, const pipeline::transfer_report& report, uint64_t files) {
    double seconds = report.elapsed.count();
    // Retries are shown only when there were some: a store that needed them is worth knowing about.
    fmt::print("{}: {} files, {:.1f} MiB in {:.2f} s: {:.1f} MB/s ({:.1f} MiB/s), {:.1f} files/s{}{}\n", what, files,
               static_cast<double>(report.bytes) / (1 << 20), seconds,
               static_cast<double>(report.bytes) / 1e6 / seconds, static_cast<double>(report.bytes) / (1 << 20) / seconds,
               static_cast<double>(files) / seconds,
               report.retries != 0 ? fmt::format(", {} requests retried", report.retries) : "",
               report.failed != 0 ? fmt::format(", {} FAILED: {}", report.failed, report.entries[0].error) : "");
}

}  // namespace

int run_bench_path(const bench_path_args& args) {
    auto config = remote::parse_repository_config(args.location, args.properties);
    if (!config) {
        fmt::print(stderr, "tabletvault bench-path: {}\n", config.error().message);
        return 2;
    }
    std::string work = args.work_dir.empty() ? fmt::format("{}/tv-bench-path-{}", fs::temp_directory_path().string(),
                                                           ::getpid())
                                             : args.work_dir;
    std::string run_prefix = fmt::format("__tabletvault_bench_{}_{}/", ::getpid(),
                                         std::chrono::system_clock::now().time_since_epoch().count());
    // The settings first: a bad flag is a usage error before any file is generated.
    server::config cfg;
    std::vector<std::pair<std::string_view, std::string>> settings = {
        {"max_upload_speed_kbps", std::to_string(args.limit_kbps)},
        {"max_download_speed_kbps", std::to_string(args.limit_kbps)},
    };
    if (args.part_size != 0) {
        settings.emplace_back("multipart_part_size", std::to_string(args.part_size));
        settings.emplace_back("multipart_threshold", std::to_string(args.part_size));
    }
    if (args.memory != 0) {
        settings.emplace_back("transfer_memory_limit", std::to_string(args.memory));
    }
    for (const auto& [key, value] : settings) {
        if (auto error = cfg.set(key, value)) {
            fmt::print(stderr, "tabletvault bench-path: {}\n", *error);
            return 2;
        }
    }
    fmt::print("bench-path: {} files x {} bytes, location {}, generating in {}\n", args.files, args.size,
               config->redacted(), work);
    bool reuse = false;
    if (args.keep_files) {
        reuse = true;
        for (uint64_t f = 0; f < args.files && reuse; ++f) {
            std::error_code ec;
            reuse = fs::file_size(fmt::format("{}/src/f{:06}", work, f), ec) == args.size && !ec;
        }
    }
    if (reuse) {
        fmt::print("bench-path: reusing the files in {}/src\n", work);
    } else if (auto error = generate_files(work + "/src", args.files, args.size)) {
        fmt::print(stderr, "tabletvault bench-path: {}\n", *error);
        return 1;
    }
    int exit_code = 0;
    {
        io::loop_group loops(0);
        transfer_service transfers(cfg, loops);
        latency_book book;
        remote::repository_config repo = *config;
        pipeline::store_opener open = [repo, &book]() -> remote::remote_result<std::unique_ptr<remote::object_store>> {
            auto store = remote::open_store(repo);
            if (!store) {
                return store.error();
            }
            return std::unique_ptr<remote::object_store>(std::make_unique<timed_store>(std::move(*store), &book));
        };
        std::vector<pipeline::transfer_entry> entries;
        for (uint64_t f = 0; f < args.files; ++f) {
            std::string name = fmt::format("f{:06}", f);
            entries.push_back(pipeline::transfer_entry{work + "/src/" + name, run_prefix + name, args.size, {}, {}});
        }
        bool up = args.direction != "down";
        bool down = args.direction != "up";
        auto options = transfers.options(pipeline::direction::upload);
        if (args.concurrency != 0) {
            options.workers = args.concurrency;
        }
        // A limited run counts what the throttle lets through (bytes on their way to the wire);
        // an unlimited one counts finished parts.
        auto counter_for = [&transfers](pipeline::direction way, pipeline::transfer_progress* progress) {
            const auto& limit = way == pipeline::direction::upload ? transfers.upload_limit() : transfers.download_limit();
            return std::function<uint64_t()>([&limit, progress] {
                return limit.unlimited() ? progress->bytes_done.load() : limit.bytes_released();
            });
        };
        // Downloads need the objects: a download-only run uploads first, unmeasured.
        pipeline::transfer_progress up_progress;
        std::optional<rate_sampler> up_sampler;
        if (up) {
            up_sampler.emplace(counter_for(pipeline::direction::upload, &up_progress), args, transfers,
                               pipeline::direction::upload);
        } else {
            transfers.apply_limits(0, 0);
        }
        auto uploaded = io::sync_wait(loops.main_loop(),
                                      transfers.engine().run(entries, options, open, {}, &up_progress));
        if (up) {
            print_report("upload", uploaded, args.files);
            up_sampler->finish();
            book.print();
        }
        if (uploaded.failed != 0) {
            exit_code = 1;
        } else if (down) {
            for (size_t i = 0; i < entries.size(); ++i) {
                entries[i].local_path = fmt::format("{}/down/f{:06}", work, i);
                entries[i].expected = uploaded.entries[i].hash;
            }
            options.way = pipeline::direction::download;
            if (args.concurrency == 0) {
                options.workers = transfers.options(pipeline::direction::download).workers;
            }
            book.print();  // drop the unmeasured upload's samples when only downloads count
            transfers.apply_limits(args.limit_kbps, args.limit_kbps);
            pipeline::transfer_progress down_progress;
            rate_sampler down_sampler(counter_for(pipeline::direction::download, &down_progress), args, transfers,
                                      pipeline::direction::download);
            auto downloaded = io::sync_wait(loops.main_loop(),
                                            transfers.engine().run(entries, options, open, {}, &down_progress));
            print_report("download", downloaded, args.files);
            down_sampler.finish();
            book.print();
            exit_code = downloaded.failed != 0 ? 1 : 0;
        }
        // Remove what the run wrote, remote and local.
        auto cleanup = [](remote::repository_config repo, std::string prefix) -> io::task<remote::remote_result<void>> {
            auto store = remote::open_store(repo);
            if (!store) {
                co_return store.error();
            }
            auto listed = co_await (*store)->list(prefix);
            if (!listed) {
                co_return listed.error();
            }
            std::vector<std::string> keys;
            for (auto& o : *listed) {
                keys.push_back(std::move(o.key));
            }
            co_return co_await (*store)->remove(std::move(keys));
        };
        auto cleaned = io::sync_wait(loops.main_loop(), cleanup(repo, run_prefix));
        if (!cleaned) {
            fmt::print(stderr, "bench-path: could not remove {} from the store: {}\n", run_prefix, cleaned.error().message);
        }
        loops.stop();
    }
    std::error_code ec;
    if (args.keep_files) {
        fs::remove_all(work + "/down", ec);
    } else {
        fs::remove_all(work, ec);
    }
    if (config->kind == remote::store_kind::local) {
        fs::remove_all(config->local_path + "/" + run_prefix, ec);
    }
    return exit_code;
}

}  // namespace tv::server
