// SPDX-License-Identifier: Apache-2.0
// Repository root naming, __repo_info's JSON, and the ping CREATE REPOSITORY runs.
#include "remote/repository.hh"

#include "io/log.hh"
#include "io/tls.hh"
#include "remote/local_store.hh"
#include "remote/s3_client.hh"

#include <atomic>
#include <mutex>

#include "tv_version.hh"

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <optional>
#include <sstream>

namespace tv::remote {

namespace pt = boost::property_tree;

std::string repository_root(std::string_view name) {
    return fmt::format("{}{}", repository_dir_prefix, name);
}

std::string encode_repo_info(const repo_info& info) {
    // Property trees write every value as a string, which suits StarRocks' own __repo_info
    // ("create_time" is a string there too) and keeps this file free of Boost.JSON's compiled
    // part, which storage/ owns.
    pt::ptree tree;
    tree.put("name", info.name);
    auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(info.create_time_ms));
    tree.put("create_time", fmt::format("{:%Y-%m-%d %H:%M:%S}", std::chrono::floor<std::chrono::seconds>(t)));
    tree.put("create_time_ms", std::to_string(info.create_time_ms));
    tree.put("tabletvault_version", info.version);
    std::ostringstream out;
    pt::write_json(out, tree, false);
    return out.str();
}

remote_result<repo_info> decode_repo_info(std::string_view text) {
    try {
        std::istringstream in{std::string(text)};
        pt::ptree tree;
        pt::read_json(in, tree);
        repo_info info;
        info.name = tree.get<std::string>("name");
        info.create_time_ms = tree.get<int64_t>("create_time_ms", 0);
        info.version = tree.get<std::string>("tabletvault_version", "");
        return info;
    } catch (const std::exception& e) {
        return make_remote_error(remote_errc::io_error, fmt::format("unreadable {}: {}", repo_info_name, e.what()));
    }
}

namespace {

/// HTTPS settings: the CA file is loaded here, so an unusable one fails CREATE REPOSITORY with
/// its own message rather than every request later.
std::optional<remote_error> apply_tls(const repository_config& config, s3_client_options& options) {
    options.use_tls = config.use_https;
    if (!config.use_https) {
        return std::nullopt;
    }
    options.ca_file = config.ca_file;
    options.verify_tls = config.verify_tls;
    auto context = io::tls_context::get(config.ca_file, config.verify_tls);
    if (!context) {
        const auto& ec = context.error();
        std::string why = io::is_tls_error(ec) ? io::tls_error_reason(ec) : ec.message();
        return make_remote_error(remote_errc::bad_config,
                                 config.ca_file.empty()
                                     ? fmt::format("cannot load the system's CA certificates: {}", why)
                                     : fmt::format("cannot use CA file '{}' (aws.s3.ca_file): {}", config.ca_file, why));
    }
    if (!config.verify_tls) {
        TV_LOG_WARN("repository {}: TLS certificate verification is off ({}=false): the server at {} is not "
                    "authenticated",
                    config.location, tls_verify_property, config.endpoint_host);
    }
    return std::nullopt;
}

}  // namespace

namespace {
std::atomic<int64_t> s3_request_timeout_ms{60'000};
std::mutex tcp_congestion_control_mutex;
std::string tcp_congestion_control_name;  // under tcp_congestion_control_mutex

std::string tcp_congestion_control() {
    std::lock_guard lock(tcp_congestion_control_mutex);
    return tcp_congestion_control_name;
}
}  // namespace

void set_s3_request_timeout(std::chrono::milliseconds timeout) {
    s3_request_timeout_ms.store(timeout.count(), std::memory_order_relaxed);
}

void set_tcp_congestion_control(std::string name) {
    std::lock_guard lock(tcp_congestion_control_mutex);
    tcp_congestion_control_name = std::move(name);
}

remote_result<std::unique_ptr<object_store>> open_store(const repository_config& config) {
    if (config.kind == store_kind::local) {
        return std::unique_ptr<object_store>(std::make_unique<local_store>(config.local_path));
    }
    auto credentials = make_credentials_provider(config);
    if (!credentials) {
        return credentials.error();
    }
    s3_client_options options;
    std::string_view host = config.endpoint_host;
    options.endpoint_port = config.use_https ? 443 : 80;
    if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
        unsigned port = 0;
        auto digits = host.substr(colon + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535) {
            return make_remote_error(remote_errc::bad_config,
                                     fmt::format("invalid endpoint port in '{}'", config.endpoint_host));
        }
        options.endpoint_port = static_cast<uint16_t>(port);
        host = host.substr(0, colon);
    }
    options.endpoint_host = std::string(host);
    options.connect_host = std::string(host);
    options.endpoint_text = config.endpoint_text;
    if (auto e = apply_tls(config, options)) {
        return *e;
    }
    if (!config.region.empty()) {
        options.region = config.region;
    }
    options.bucket = config.bucket;
    options.http.request_timeout = std::chrono::milliseconds(s3_request_timeout_ms.load(std::memory_order_relaxed));
    options.http.congestion_control = tcp_congestion_control();
    options.addressing = config.path_style ? s3_addressing::path : s3_addressing::virtual_hosted;
    options.payload_signing = config.signing == payload_signing::signed_payload ? s3_payload_signing::signed_payload
                                                                                : s3_payload_signing::unsigned_payload;
    std::string prefix = config.prefix.empty() ? std::string{} : config.prefix + "/";
    return std::unique_ptr<object_store>(std::make_unique<s3_object_store>(options, *credentials, prefix));
}

io::task<remote_result<repo_info>> ping_repository(object_store& store, std::string name, bool read_only,
                                                   int64_t now_ms, std::stop_token stop) {
    std::string key = repository_root(name) + "/" + std::string(repo_info_name);
    auto existing = co_await store.get(key, std::nullopt, stop);
    if (existing) {
        auto info = decode_repo_info(*existing);
        if (!info && !store.endpoint().empty()) {
            // Whatever answered 200 is not a store holding our __repo_info: say no more than for
            // any endpoint that is not S3 (docs/security.md), and leave the detail to the log.
            TV_LOG_WARN("could not reach endpoint {}: {} in {}: {}", store.endpoint(), key, store.describe(),
                        info.error().message);
            remote_error e = make_remote_error(
                remote_errc::io_error, fmt::format("could not reach endpoint {}: connection failed", store.endpoint()));
            e.unreachable_endpoint = store.endpoint();
            co_return e;
        }
        if (!info) {
            co_return make_remote_error(info.error().code,
                                        fmt::format("{} in {}: {}", key, store.describe(), info.error().message));
        }
        co_return *info;
    }
    if (existing.error().code != remote_errc::not_found) {
        co_return existing.error();
    }
    if (read_only) {
        co_return make_remote_error(remote_errc::not_found,
                                    fmt::format("a READ ONLY repository needs an existing repository: {} not found "
                                                "in {}",
                                                key, store.describe()));
    }
    repo_info info{name, now_ms, TV_VERSION};
    std::string text = encode_repo_info(info);
    auto written = co_await store.put(key, std::as_bytes(std::span<const char>(text.data(), text.size())), stop);
    if (!written) {
        co_return written.error();
    }
    co_return info;
}

}  // namespace tv::remote
