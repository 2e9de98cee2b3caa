// SPDX-License-Identifier: Apache-2.0
// The tabletvault command line: --version, --help, serve, config-reference, bench-path.
#include "io/log.hh"
#include "io/probe.hh"
#include "server/bench_path.hh"
#include "server/config.hh"
#include "server/serve.hh"
#include "tv_version.hh"

#include <fmt/format.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <charconv>
#include <cstdlib>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view k_usage = R"(tabletvault: tablet storage with fast, verifiable backup and restore.

Usage:
  tabletvault serve [--config FILE] [--data-dir DIR] [--set key=value]...
      Run the server (HTTP on http_port). Stops cleanly on SIGINT or SIGTERM.
      --config FILE      read `key = value` lines (# starts a comment)
      --data-dir DIR     same as --set data_dir=DIR
      --set key=value    override one key; later flags win over the file
  tabletvault config-reference
      Print every configuration key with its type, default and meaning (Markdown).
  tabletvault bench-path --location LOC [--property k=v]... [--files N] [--size BYTES]
                         [--concurrency C] [--direction up|down|both] [--limit-kbps K]
                         [--part-size BYTES] [--memory BYTES] [--work-dir DIR]
                         [--windows on|off] [--change-limit SECONDS:KBPS] [--keep-files on|off]
      Measure a storage path with the backup engine: write N generated files of BYTES each to
      LOC (file:///dir, /dir or s3://bucket/prefix, properties as CREATE REPOSITORY takes them),
      read them back, print MB/s, files/s and request latencies, then remove what it wrote.
      --windows on prints the rate of every 1-second window; --change-limit sets the limit to
      KBPS that many seconds into each run and reports how long the new rate took to show;
      --keep-files on keeps (and reuses) the generated files in --work-dir for other tools.
  tabletvault --version
  tabletvault --help

Exit codes: 0 success, 1 the server could not start or failed, 2 bad command line or config.
)";

int usage_error(const std::string& message) {
    fmt::print(stderr, "tabletvault: {}\nRun `tabletvault --help` for usage.\n", message);
    return 2;
}

/// `tabletvault bench-path ...`: parses and checks the flags, then runs the measurement.
int bench_path_command(const std::vector<std::string_view>& args) {
    tv::server::bench_path_args parsed;
    auto size_of = [](std::string_view text) -> std::optional<uint64_t> {
        auto bytes = tv::server::parse_size(text);
        if (!bytes || *bytes < 0) {
            return std::nullopt;
        }
        return static_cast<uint64_t>(*bytes);
    };
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (i + 1 >= args.size()) {
            return usage_error(fmt::format("{} needs a value", arg));
        }
        std::string_view value = args[++i];
        if (arg == "--location") {
            parsed.location = std::string(value);
        } else if (arg == "--property") {
            auto eq = value.find('=');
            if (eq == std::string_view::npos) {
                return usage_error("--property needs key=value");
            }
            parsed.properties.emplace_back(std::string(value.substr(0, eq)), std::string(value.substr(eq + 1)));
        } else if (arg == "--files" || arg == "--size" || arg == "--concurrency" || arg == "--limit-kbps" ||
                   arg == "--part-size" || arg == "--memory") {
            auto number = size_of(value);
            if (!number) {
                return usage_error(fmt::format("{} needs a number, got '{}'", arg, value));
            }
            if (arg == "--files") parsed.files = *number;
            if (arg == "--size") parsed.size = *number;
            if (arg == "--concurrency") parsed.concurrency = static_cast<unsigned>(*number);
            if (arg == "--limit-kbps") parsed.limit_kbps = static_cast<int64_t>(*number);
            if (arg == "--part-size") parsed.part_size = *number;
            if (arg == "--memory") parsed.memory = *number;
        } else if (arg == "--direction") {
            if (value != "up" && value != "down" && value != "both") {
                return usage_error(fmt::format("--direction is up, down or both, not '{}'", value));
            }
            parsed.direction = std::string(value);
        } else if (arg == "--work-dir") {
            parsed.work_dir = std::string(value);
        } else if (arg == "--keep-files") {
            if (value != "on" && value != "off") {
                return usage_error(fmt::format("--keep-files is on or off, not '{}'", value));
            }
            parsed.keep_files = value == "on";
        } else if (arg == "--windows") {
            if (value != "on" && value != "off") {
                return usage_error(fmt::format("--windows is on or off, not '{}'", value));
            }
            parsed.windows = value == "on";
        } else if (arg == "--change-limit") {
            // SECONDS:KBPS
            auto colon = value.find(':');
            auto kbps = colon == std::string_view::npos ? std::nullopt : size_of(value.substr(colon + 1));
            double seconds = 0;
            std::string_view seconds_text = value.substr(0, colon == std::string_view::npos ? 0 : colon);
            auto [end, ec] = std::from_chars(seconds_text.data(), seconds_text.data() + seconds_text.size(), seconds);
            if (ec != std::errc{} || end != seconds_text.data() + seconds_text.size()) {
                seconds = 0;
            }
            if (!kbps || seconds <= 0) {
                return usage_error(fmt::format("--change-limit needs SECONDS:KBPS, got '{}'", value));
            }
            parsed.change_after_s = seconds;
            parsed.change_to_kbps = static_cast<int64_t>(*kbps);
        } else {
            return usage_error(fmt::format("unknown option '{}' for bench-path", arg));
        }
    }
    if (parsed.location.empty()) {
        return usage_error("bench-path needs --location");
    }
    if (parsed.files == 0) {
        return usage_error("--files must be at least 1");
    }
    return tv::server::run_bench_path(parsed);
}

/// Allocations of 1 MiB and more get pages of their own, returned when freed. glibc's default
/// threshold follows the largest block freed so far (up to 32 MiB), after which a job's large
/// transient buffers (a manifest's text, its file list) come from the heap, interleave with
/// long-lived objects there and stay resident after they are freed: measured here, 20 MiB more
/// for the rest of the process after a backup of 20,000 files. A user's own setting wins.
void keep_large_allocations_apart() {
#ifdef __GLIBC__
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr &&
        (tunables == nullptr || std::string_view(tunables).find("mmap_threshold") == std::string_view::npos)) {
        mallopt(M_MMAP_THRESHOLD, 1 << 20);
    }
#endif
}

int run_serve(const std::vector<std::string_view>& args) {
    tv::server::config cfg;
    std::string config_file;
    std::vector<std::pair<std::string, std::string>> overrides;
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        auto value_of = [&](std::string_view flag) -> std::optional<std::string> {
            if (arg.starts_with(flag) && arg.size() > flag.size() && arg[flag.size()] == '=') {
                return std::string(arg.substr(flag.size() + 1));
            }
            if (arg == flag && i + 1 < args.size()) {
                return std::string(args[++i]);
            }
            return std::nullopt;
        };
        if (arg.starts_with("--config")) {
            auto v = value_of("--config");
            if (!v) return usage_error("--config needs a file name");
            config_file = *v;
        } else if (arg.starts_with("--data-dir")) {
            auto v = value_of("--data-dir");
            if (!v) return usage_error("--data-dir needs a directory");
            overrides.emplace_back("data_dir", *v);
        } else if (arg.starts_with("--set")) {
            auto v = value_of("--set");
            if (!v || v->find('=') == std::string::npos) return usage_error("--set needs key=value");
            auto eq = v->find('=');
            overrides.emplace_back(v->substr(0, eq), v->substr(eq + 1));
        } else {
            return usage_error(fmt::format("unknown option '{}' for serve", arg));
        }
    }
    if (!config_file.empty()) {
        if (auto error = cfg.load_file(config_file)) {
            return usage_error(*error);
        }
    }
    for (const auto& [key, value] : overrides) {
        if (auto error = cfg.set(key, value)) {
            return usage_error(*error);
        }
    }
    keep_large_allocations_apart();
    tv::io::kernel_opcode_probe probe;
    return tv::server::serve(std::move(cfg), probe);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty()) {
        fmt::print(stderr, "{}", k_usage);
        return 2;
    }
    std::string_view command = args.front();
    args.erase(args.begin());
    if (command == "--help" || command == "-h" || command == "help") {
        fmt::print("{}", k_usage);
        return 0;
    }
    if (command == "--version") {
        fmt::print("tabletvault {}\n", TV_VERSION);
        return 0;
    }
    if (command == "serve") {
        return run_serve(args);
    }
    if (command == "bench-path") {
        return bench_path_command(args);
    }
    if (command == "config-reference") {
        fmt::print("{}", tv::server::config_reference_markdown());
        return 0;
    }
    return usage_error(fmt::format("unknown command '{}'", command));
}
