// SPDX-License-Identifier: Apache-2.0
// The credential sources: the cache with its shared refresh, IMDSv2 and STS AssumeRole over
// http_client, and the choice a repository's configuration makes between them.
#include "remote/credentials.hh"

#include "io/log.hh"
#include "io/loop.hh"
#include "remote/repository_config.hh"
#include "remote/s3_xml.hh"

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sstream>

namespace tv::remote {

namespace {

using wall_clock = std::chrono::system_clock;

/// "2026-11-21T19:36:09Z", with optional fractional seconds and a "+00:00" zone (STS and IMDS
/// answer in UTC).
std::optional<wall_clock::time_point> parse_iso8601(std::string_view text) {
    std::tm tm{};
    std::string s(text);
    int consumed = 0;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &consumed) < 6 ||
        consumed == 0) {
        return std::nullopt;
    }
    std::string_view rest = std::string_view(s).substr(static_cast<size_t>(consumed));
    if (!rest.empty() && rest.front() == '.') {
        rest.remove_prefix(1);
        while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
            rest.remove_prefix(1);  // sub-second precision does not matter for an expiry
        }
    }
    if (rest != "Z" && rest != "+00:00" && !rest.empty()) {
        return std::nullopt;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t seconds = ::timegm(&tm);
    if (seconds == static_cast<time_t>(-1)) {
        return std::nullopt;
    }
    return wall_clock::from_time_t(seconds);
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

/// A provider's failure: unreachable sources and unusable answers (io_error) are worth another
/// attempt, refusals and configuration mistakes are not.
remote_error credentials_error(remote_errc code, std::string message) {
    remote_error e = make_remote_error(code, std::move(message));
    e.retryable = code == remote_errc::io_error;
    return e;
}

/// Form encoding for the query API: the SigV4 unreserved set, everything else %XX.
std::string form_value(std::string_view v) {
    return uri_encode(v, false);
}

}  // namespace

// ---- static and environment ------------------------------------------------------------------

std::optional<aws_credentials> credentials_from_environment() {
    const char* access = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (access == nullptr || secret == nullptr || *access == '\0' || *secret == '\0') {
        return std::nullopt;
    }
    const char* token = std::getenv("AWS_SESSION_TOKEN");
    return aws_credentials{access, secret, token != nullptr ? token : ""};
}

std::string default_imds_endpoint() {
    const char* configured = std::getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (configured != nullptr && *configured != '\0') {
        return configured;
    }
    return "http://169.254.169.254";
}

io::task<remote_result<aws_credentials>> static_credentials_provider::get() {
    co_return _credentials;
}

io::task<remote_result<aws_credentials>> environment_credentials_provider::get() {
    auto found = credentials_from_environment();
    if (!found) {
        co_return credentials_error(remote_errc::bad_config,
                                    "no credentials: set aws.s3.access_key and aws.s3.secret_key, or "
                                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the server's environment");
    }
    co_return std::move(*found);
}

// ---- the cache -------------------------------------------------------------------------------

struct refreshing_credentials_provider::refresh_waiter {
    refreshing_credentials_provider* self;
    bool await_ready() const noexcept { return !self->_refreshing; }
    void await_suspend(std::coroutine_handle<> h) { self->_waiters.push_back(h); }
    void await_resume() const noexcept {}
};

refreshing_credentials_provider::refreshing_credentials_provider(std::chrono::seconds refresh_ahead)
    : _refresh_ahead(refresh_ahead) {}

bool refreshing_credentials_provider::fresh(wall_clock::time_point now) const {
    if (!_cached) {
        return false;
    }
    // Half the lifetime bounds the lead, so short-lived credentials are still used for a while.
    auto lifetime = std::max<wall_clock::duration>(_cached->expiration - _fetched_at, {});  // skewed clocks
    auto lead = std::min<wall_clock::duration>(_refresh_ahead, lifetime / 2);
    return now < _cached->expiration - lead;
}

io::task<void> refreshing_credentials_provider::refresh() {
    _refreshing = true;
    ++_fetches;
    auto started = wall_clock::now();
    remote_result<timed_credentials> r = credentials_error(remote_errc::io_error, "credentials fetch failed");
    try {
        r = co_await fetch();
    } catch (const std::exception& e) {
        r = credentials_error(remote_errc::io_error, fmt::format("{}: {}", describe(), e.what()));
    }
    if (r) {
        _cached = std::move(*r);
        _fetched_at = started;
        _last_error.reset();
    } else {
        _last_error = std::move(r.error());
        _next_try = wall_clock::now() + retry_pause;
        if (_cached && wall_clock::now() < _cached->expiration) {
            TV_LOG_WARN("{}; the current credentials are used until they expire", _last_error->message);
        }
    }
    _refreshing = false;
    for (auto h : std::exchange(_waiters, {})) {
        io::loop::current().post(h);
    }
}

io::task<remote_result<aws_credentials>> refreshing_credentials_provider::get() {
    auto now = wall_clock::now();
    if (fresh(now)) {
        co_return _cached->credentials;
    }
    bool usable = _cached && now < _cached->expiration;
    if (_refreshing) {
        refresh_waiter waiter{this};
        co_await waiter;
    } else if (!usable || now >= _next_try) {
        co_await refresh();
    }
    now = wall_clock::now();
    if (_cached && now < _cached->expiration) {
        co_return _cached->credentials;
    }
    if (_last_error) {
        co_return *_last_error;
    }
    co_return credentials_error(remote_errc::io_error, fmt::format("{}: no credentials", describe()));
}

// ---- endpoints -------------------------------------------------------------------------------

remote_error unreachable_endpoint(std::string_view endpoint, std::string_view detail, bool retryable) {
    TV_LOG_WARN("could not reach endpoint {}: {}", endpoint, detail);
    remote_error e = make_remote_error(remote_errc::io_error,
                                       fmt::format("could not reach endpoint {}: connection failed", endpoint));
    e.retryable = retryable;
    e.unreachable_endpoint = std::string(endpoint);
    return e;
}

std::string service_endpoint::host_header() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    uint16_t default_port = https ? 443 : 80;
    return port == default_port ? h : fmt::format("{}:{}", h, port);
}

remote_result<service_endpoint> parse_service_endpoint(std::string_view url, std::string_view what) {
    auto bad = [&](std::string_view why) {
        return credentials_error(remote_errc::bad_config, fmt::format("invalid {} '{}': {}", what, url, why));
    };
    service_endpoint e;
    std::string_view rest = url;
    if (rest.starts_with("https://")) {
        e.https = true;
        e.port = 443;
        rest.remove_prefix(8);
    } else if (rest.starts_with("http://")) {
        rest.remove_prefix(7);
    } else {
        return bad("expected http://host[:port] or https://host[:port]");
    }
    while (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
    }
    if (rest.empty() || rest.find_first_of("/?# \t") != std::string_view::npos) {
        return bad("expected a host and an optional port, nothing after them");
    }
    std::string_view port_text;
    if (rest.front() == '[') {
        auto close = rest.find(']');
        if (close == std::string_view::npos || close == 1) {
            return bad("unbalanced [ in an IPv6 address");
        }
        e.host = std::string(rest.substr(1, close - 1));
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return bad("expected :port after the IPv6 address");
            }
            port_text = after.substr(1);
        }
    } else {
        auto colon = rest.find(':');
        e.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = rest.substr(colon + 1);
        }
    }
    if (e.host.empty()) {
        return bad("no host");
    }
    if (!port_text.empty() || rest.back() == ':') {
        unsigned port = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
            return bad("the port must be a number from 1 to 65535");
        }
        e.port = static_cast<uint16_t>(port);
    }
    e.url = fmt::format("{}://{}", e.https ? "https" : "http", e.host_header());
    return e;
}

http_client_request signed_form_post(sigv4_signer& signer, std::string host_header, const std::string& form,
                                     const aws_credentials& credentials) {
    sigv4_request signing;
    signing.method = "POST";
    signing.path = "/";
    signing.headers.push_back(http_header{"Host", std::move(host_header)});
    signing.headers.push_back(http_header{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
    signing.payload_hash = sha256_hex(form);
    auto signature = signer.sign(signing, credentials, wall_clock::now());
    http_client_request out;
    out.method = "POST";
    out.target = "/";
    for (auto* headers : {&signing.headers, &signature.headers}) {
        for (auto& h : *headers) {
            out.headers.emplace_back(std::move(h.name), std::move(h.value));
        }
    }
    out.headers.emplace_back("User-Agent", "tabletvault");
    out.body = std::as_bytes(std::span(form));
    return out;
}

// ---- IMDSv2 ----------------------------------------------------------------------------------

namespace {

constexpr std::string_view imds_token_header = "X-aws-ec2-metadata-token";
constexpr std::string_view imds_credentials_path = "/latest/meta-data/iam/security-credentials/";

}  // namespace

remote_result<std::shared_ptr<imds_credentials_provider>> imds_credentials_provider::create(imds_options options) {
    if (options.endpoint.empty()) {
        options.endpoint = default_imds_endpoint();
    }
    auto endpoint = parse_service_endpoint(options.endpoint, "IMDS endpoint");
    if (!endpoint) {
        return credentials_error(endpoint.error().code, "instance profile credentials: " + endpoint.error().message);
    }
    if (endpoint->https) {
        return credentials_error(remote_errc::bad_config,
                                 fmt::format("instance profile credentials: invalid IMDS endpoint '{}': the instance "
                                             "metadata service speaks plain HTTP only (http://)",
                                             options.endpoint));
    }
    return std::make_shared<imds_credentials_provider>(std::move(options), std::move(*endpoint));
}

imds_credentials_provider::imds_credentials_provider(imds_options options, service_endpoint endpoint)
    : refreshing_credentials_provider(options.refresh_ahead), _options(std::move(options)),
      _endpoint(std::move(endpoint)),
      _http(http_client_options{.max_idle_per_endpoint = 1,
                                .connect_timeout = _options.timeout,
                                .request_timeout = _options.timeout,
                                .max_response_body = 64 * 1024}) {}

std::string imds_credentials_provider::describe() const {
    return fmt::format("instance profile (IMDS at {})", _endpoint.url);
}

remote_error imds_credentials_provider::failure(remote_errc code, std::string_view what) const {
    return credentials_error(code, fmt::format("instance profile credentials: {}", what));
}

remote_error imds_credentials_provider::failure(remote_error unreachable) const {
    remote_error e = failure(unreachable.code, unreachable.message);
    e.retryable = unreachable.retryable;
    e.unreachable_endpoint = std::move(unreachable.unreachable_endpoint);
    return e;
}

io::task<remote_result<timed_credentials>> imds_credentials_provider::fetch() {
    http_endpoint where{_endpoint.host, _endpoint.port};
    std::string host = _endpoint.host_header();

    http_client_request token_request;
    token_request.method = "PUT";
    token_request.target = "/latest/api/token";
    token_request.headers.emplace_back("Host", host);
    token_request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds",
                                       std::to_string(_options.token_ttl.count()));
    auto token_response = co_await _http.send(where, std::move(token_request));
    // Until a session token comes back, whatever answered is not known to be IMDS: one message
    // for every failure, the detail in the log.
    std::string shown = _options.endpoint_text.empty() ? _endpoint.url : _options.endpoint_text;
    if (!token_response) {
        remote_error e = unreachable_endpoint(
            shown, fmt::format("no IMDS at {} ({})", _endpoint.url, token_response.error().message()), true);
        co_return failure(std::move(e));
    }
    std::string token = trim(token_response->body);
    if (token_response->status != 200 || token.empty() || token.find_first_of("\r\n") != std::string::npos) {
        remote_error e = unreachable_endpoint(
            shown,
            fmt::format("IMDS at {} gave no session token (HTTP {}, {} bytes); IMDSv2 is required", _endpoint.url,
                        token_response->status, token_response->body.size()),
            false);
        co_return failure(std::move(e));
    }

    http_client_request role_request;
    role_request.method = "GET";
    role_request.target = std::string(imds_credentials_path);
    role_request.headers.emplace_back("Host", host);
    role_request.headers.emplace_back(std::string(imds_token_header), token);
    auto role_response = co_await _http.send(where, std::move(role_request));
    if (!role_response) {
        co_return failure(remote_errc::io_error, fmt::format("IMDS at {}: {}", _endpoint.url,
                                                             role_response.error().message()));
    }
    if (role_response->status == 404) {
        co_return failure(remote_errc::permission_denied,
                          fmt::format("no IAM role is attached to this instance (IMDS at {} answered 404 for {})",
                                      _endpoint.url, imds_credentials_path));
    }
    if (role_response->status != 200) {
        co_return failure(role_response->status >= 500 ? remote_errc::io_error : remote_errc::permission_denied,
                          fmt::format("IMDS at {} answered HTTP {} for {}", _endpoint.url, role_response->status,
                                      imds_credentials_path));
    }
    std::string body = trim(role_response->body);
    std::string role = body.substr(0, body.find('\n'));  // one role per instance profile
    role = trim(role);
    if (role.empty() || role.find_first_of("/?#% ") != std::string::npos) {
        co_return failure(remote_errc::io_error,
                          fmt::format("IMDS at {} named no usable IAM role under {}", _endpoint.url,
                                      imds_credentials_path));
    }

    http_client_request credentials_request;
    credentials_request.method = "GET";
    credentials_request.target = std::string(imds_credentials_path) + role;
    credentials_request.headers.emplace_back("Host", host);
    credentials_request.headers.emplace_back(std::string(imds_token_header), token);
    auto credentials_response = co_await _http.send(where, std::move(credentials_request));
    if (!credentials_response) {
        co_return failure(remote_errc::io_error, fmt::format("IMDS at {}, role {}: {}", _endpoint.url, role,
                                                             credentials_response.error().message()));
    }
    if (credentials_response->status != 200) {
        co_return failure(credentials_response->status >= 500 ? remote_errc::io_error : remote_errc::permission_denied,
                          fmt::format("IMDS at {} answered HTTP {} for the credentials of role {}", _endpoint.url,
                                      credentials_response->status, role));
    }
    namespace pt = boost::property_tree;
    pt::ptree tree;
    try {
        std::istringstream in(credentials_response->body);
        pt::read_json(in, tree);
    } catch (const std::exception&) {
        // The parser's message may quote the document, which holds the secret.
        co_return failure(remote_errc::io_error,
                          fmt::format("IMDS at {} sent unreadable JSON for role {}", _endpoint.url, role));
    }
    std::string code = tree.get<std::string>("Code", "Success");
    if (code != "Success") {
        co_return failure(remote_errc::permission_denied,
                          fmt::format("IMDS role {}: {}: {}", role, code, tree.get<std::string>("Message", "")));
    }
    timed_credentials out;
    out.credentials.access_key = tree.get<std::string>("AccessKeyId", "");
    out.credentials.secret_key = tree.get<std::string>("SecretAccessKey", "");
    out.credentials.session_token = tree.get<std::string>("Token", "");
    auto expiration = parse_iso8601(tree.get<std::string>("Expiration", ""));
    if (out.credentials.access_key.empty() || out.credentials.secret_key.empty() || !expiration) {
        co_return failure(remote_errc::io_error,
                          fmt::format("IMDS at {} sent credentials for role {} without AccessKeyId, SecretAccessKey "
                                      "or a readable Expiration",
                                      _endpoint.url, role));
    }
    out.expiration = *expiration;
    co_return out;
}

// ---- STS AssumeRole --------------------------------------------------------------------------

remote_result<std::shared_ptr<assume_role_credentials_provider>> assume_role_credentials_provider::create(
    assume_role_options options, std::shared_ptr<credentials_provider> base) {
    std::string prefix = fmt::format("assume role {}: ", options.role_arn);
    if (options.role_arn.empty()) {
        return credentials_error(remote_errc::bad_config, "assume role: no role ARN");
    }
    auto endpoint = parse_service_endpoint(options.endpoint, "STS endpoint");
    if (!endpoint) {
        return credentials_error(endpoint.error().code, prefix + endpoint.error().message);
    }
    if (!base) {
        return credentials_error(remote_errc::bad_config, prefix + "no base credentials to assume it with");
    }
    return std::make_shared<assume_role_credentials_provider>(std::move(options), std::move(*endpoint),
                                                              std::move(base));
}

assume_role_credentials_provider::assume_role_credentials_provider(assume_role_options options,
                                                                   service_endpoint endpoint,
                                                                   std::shared_ptr<credentials_provider> base)
    : refreshing_credentials_provider(options.refresh_ahead), _options(std::move(options)),
      _endpoint(std::move(endpoint)), _base(std::move(base)), _signer(_options.region, "sts"), _http(_options.http) {}

std::string assume_role_credentials_provider::describe() const {
    return fmt::format("assume role {} at {} with {}", _options.role_arn, _endpoint.url, _base->describe());
}

io::task<remote_result<timed_credentials>> assume_role_credentials_provider::fetch() {
    const std::string& arn = _options.role_arn;
    auto base = co_await _base->get();
    if (!base) {
        co_return credentials_error(base.error().code,
                                    fmt::format("assume role {}: base credentials: {}", arn, base.error().message));
    }
    std::string session = _options.session_name;
    if (session.empty()) {
        session = fmt::format("tabletvault-{}", wall_clock::to_time_t(wall_clock::now()));
    }
    std::string form = fmt::format("Action=AssumeRole&DurationSeconds={}", _options.duration.count());
    if (!_options.external_id.empty()) {
        form += "&ExternalId=" + form_value(_options.external_id);
    }
    form += fmt::format("&RoleArn={}&RoleSessionName={}&Version=2011-06-15", form_value(arn), form_value(session));

    auto out = signed_form_post(_signer, _endpoint.host_header(), form, *base);
    http_endpoint where{_endpoint.host, _endpoint.port};
    where.use_tls = _endpoint.https;
    where.ca_file = _options.ca_file;
    where.verify_tls = _options.verify_tls;
    auto response = co_await _http.send(where, std::move(out));
    std::string shown = _options.endpoint_text.empty() ? _endpoint.url : _options.endpoint_text;
    auto unreachable = [&](std::string detail, bool retryable) {
        remote_error e = unreachable_endpoint(shown, fmt::format("assume role {}: STS at {}: {}", arn, _endpoint.url,
                                                                 detail),
                                              retryable);
        e.message = fmt::format("assume role {}: {}", arn, e.message);
        return e;
    };
    if (!response) {
        co_return unreachable(response.error().message(), true);
    }
    if (response->status != 200) {
        // Only STS's own error document is quoted (capped, control characters replaced): the
        // body of whatever else answers there is not the user's to read.
        auto error_document = xml::find_all(response->body, "Error");
        std::string code = error_document.empty() ? std::string{}
                                                  : xml::find(error_document.front(), "Code").value_or("");
        if (code.empty()) {
            co_return unreachable(fmt::format("HTTP {} without an STS error document", response->status),
                                  response->status >= 500);
        }
        code = xml::printable_prefix(code, 64);
        std::string text = xml::printable_prefix(xml::find(error_document.front(), "Message").value_or(""), 512);
        std::string request_id = xml::printable_prefix(xml::find(response->body, "RequestId").value_or(""), 128);
        // A refusal (AccessDenied, SignatureDoesNotMatch, InvalidClientTokenId, ExpiredToken) is
        // final, a malformed request (a bad role ARN) is the configuration's fault, and an
        // overloaded STS may answer the next attempt.
        remote_errc errc = remote_errc::permission_denied;
        if (response->status >= 500 || code == "Throttling" || code == "RequestTimeout") {
            errc = remote_errc::io_error;
        } else if (code == "ValidationError") {
            errc = remote_errc::bad_config;
        }
        std::string message = fmt::format("assume role {}: {}{}{} (HTTP {} from STS at {})", arn,
                                          code.empty() ? "error" : code, text.empty() ? "" : ": ", text,
                                          response->status, _endpoint.url);
        if (!request_id.empty()) {
            message += fmt::format(" [request id {}]", request_id);
        }
        co_return credentials_error(errc, std::move(message));
    }
    auto credentials = xml::find_all(response->body, "Credentials");
    timed_credentials result;
    std::optional<wall_clock::time_point> expiration;
    if (!credentials.empty()) {
        result.credentials.access_key = xml::find(credentials.front(), "AccessKeyId").value_or("");
        result.credentials.secret_key = xml::find(credentials.front(), "SecretAccessKey").value_or("");
        result.credentials.session_token = xml::find(credentials.front(), "SessionToken").value_or("");
        expiration = parse_iso8601(xml::find(credentials.front(), "Expiration").value_or(""));
    }
    if (result.credentials.access_key.empty() || result.credentials.secret_key.empty() ||
        result.credentials.session_token.empty() || !expiration) {
        co_return unreachable("answered without complete Credentials (AccessKeyId, SecretAccessKey, SessionToken, "
                              "Expiration)",
                              false);
    }
    result.expiration = *expiration;
    co_return result;
}

// ---- a repository's choice -------------------------------------------------------------------

remote_result<std::shared_ptr<credentials_provider>> make_credentials_provider(const repository_config& config) {
    std::shared_ptr<credentials_provider> provider;
    switch (config.credentials) {
    case credential_source::static_keys:
        provider = std::make_shared<static_credentials_provider>(
            aws_credentials{config.access_key, config.secret_key, config.session_token});
        break;
    case credential_source::environment:
        // Checked now so CREATE REPOSITORY says what is missing; read again at every request.
        if (!credentials_from_environment()) {
            return credentials_error(remote_errc::bad_config,
                                     "no credentials: set aws.s3.access_key and aws.s3.secret_key, or "
                                     "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the server's environment");
        }
        provider = std::make_shared<environment_credentials_provider>();
        break;
    case credential_source::instance_profile: {
        imds_options options;
        options.endpoint = config.imds_endpoint;
        options.endpoint_text = config.imds_endpoint_text;
        auto imds = imds_credentials_provider::create(std::move(options));
        if (!imds) {
            return imds.error();
        }
        provider = std::move(*imds);
        break;
    }
    }
    if (!config.iam_role_arn.empty()) {
        assume_role_options options;
        options.role_arn = config.iam_role_arn;
        options.external_id = config.external_id;
        options.endpoint = config.sts_endpoint;
        options.endpoint_text = config.sts_endpoint_text;
        options.region = config.region.empty() ? "us-east-1" : config.region;
        options.ca_file = config.ca_file;
        options.verify_tls = config.verify_tls;
        auto role = assume_role_credentials_provider::create(std::move(options), std::move(provider));
        if (!role) {
            return role.error();
        }
        provider = std::move(*role);
    }
    return provider;
}

}  // namespace tv::remote
