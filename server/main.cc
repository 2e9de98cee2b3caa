// SPDX-License-Identifier: Apache-2.0
// The tabletvault command line: --version, --help, serve, config-reference.
#include "io/log.hh"
#include "io/probe.hh"
#include "server/config.hh"
#include "server/serve.hh"
#include "tv_version.hh"

#include <fmt/format.h>

#include <cstdio>
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
  tabletvault --version
  tabletvault --help

Exit codes: 0 success, 1 the server could not start or failed, 2 bad command line or config.
)";

int usage_error(const std::string& message) {
    fmt::print(stderr, "tabletvault: {}\nRun `tabletvault --help` for usage.\n", message);
    return 2;
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
    if (command == "config-reference") {
        fmt::print("{}", tv::server::config_reference_markdown());
        return 0;
    }
    return usage_error(fmt::format("unknown command '{}'", command));
}
