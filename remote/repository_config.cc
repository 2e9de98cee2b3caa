// SPDX-License-Identifier: Apache-2.0
// Location and property parsing for repositories: one table of accepted names per setting, so
// that a StarRocks name, a Hadoop S3A name and a Doris name for the same thing cannot disagree
// silently.
#include "remote/repository_config.hh"

#include "io/ascii.hh"
#include "io/log.hh"
#include "remote/local_location.hh"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>

namespace tv::remote {

namespace {

enum class setting {
    access_key,
    secret_key,
    session_token,
    region,
    endpoint,
    path_style,
    use_instance_profile,
    iam_role_arn,
    external_id,
    sts_endpoint,
    imds_endpoint,
    payload_signing,
    ca_file,
    enable_ssl,
    tls_verify,
};

struct alias {
    std::string_view name;
    setting what;
    std::string_view description;  // for conflict messages
};

// Every accepted name. StarRocks: aws.s3.*; Hadoop S3A (StarRocks' GCS docs): fs.s3a.*; Doris:
// AWS_* (older docs) and s3.* (newer), plus its use_path_style.
constexpr std::array aliases{
    alias{"aws.s3.access_key", setting::access_key, "the access key"},
    alias{"fs.s3a.access.key", setting::access_key, "the access key"},
    alias{"AWS_ACCESS_KEY", setting::access_key, "the access key"},
    alias{"s3.access_key", setting::access_key, "the access key"},
    alias{"aws.s3.secret_key", setting::secret_key, "the secret key"},
    alias{"fs.s3a.secret.key", setting::secret_key, "the secret key"},
    alias{"AWS_SECRET_KEY", setting::secret_key, "the secret key"},
    alias{"s3.secret_key", setting::secret_key, "the secret key"},
    alias{"aws.s3.session_token", setting::session_token, "the session token"},
    alias{"fs.s3a.session.token", setting::session_token, "the session token"},
    alias{"AWS_TOKEN", setting::session_token, "the session token"},
    alias{"s3.session_token", setting::session_token, "the session token"},
    alias{"aws.s3.region", setting::region, "the region"},
    alias{"AWS_REGION", setting::region, "the region"},
    alias{"s3.region", setting::region, "the region"},
    alias{"aws.s3.endpoint", setting::endpoint, "the endpoint"},
    alias{"fs.s3a.endpoint", setting::endpoint, "the endpoint"},
    alias{"AWS_ENDPOINT", setting::endpoint, "the endpoint"},
    alias{"s3.endpoint", setting::endpoint, "the endpoint"},
    alias{"aws.s3.enable_path_style_access", setting::path_style, "path-style access"},
    alias{"fs.s3a.path.style.access", setting::path_style, "path-style access"},
    alias{"use_path_style", setting::path_style, "path-style access"},
    alias{"aws.s3.use_instance_profile", setting::use_instance_profile, "instance profile use"},
    alias{"aws.s3.iam_role_arn", setting::iam_role_arn, "the IAM role"},
    alias{"aws.s3.external_id", setting::external_id, "the external id"},
    alias{"aws.s3.sts_endpoint", setting::sts_endpoint, "the STS endpoint"},
    alias{"aws.s3.imds_endpoint", setting::imds_endpoint, "the IMDS endpoint"},
    alias{"aws.s3.payload_signing", setting::payload_signing, "payload signing"},
    alias{"aws.s3.ca_file", setting::ca_file, "the CA file"},
    alias{"aws.s3.enable_ssl", setting::enable_ssl, "HTTPS use"},
    alias{tls_verify_property, setting::tls_verify, "TLS verification"},
};

const alias* find_alias(std::string_view name) {
    auto it = std::find_if(aliases.begin(), aliases.end(), [&](const alias& a) { return a.name == name; });
    return it == aliases.end() ? nullptr : &*it;
}

bool secret_setting(setting s) {
    return s == setting::access_key || s == setting::secret_key || s == setting::session_token ||
           s == setting::external_id;
}

remote_error bad(std::string message) {
    return make_remote_error(remote_errc::bad_config, std::move(message));
}

/// The first control character (0x00-0x1F, 0x7F) in `text`, if any. Every property value and
/// location ends up in an HTTP header, a URL or a file path, where CR/LF would end a header line
/// and start a request of its own, and NUL would cut a path short.
std::optional<unsigned char> control_character(std::string_view text) {
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            return c;
        }
    }
    return std::nullopt;
}

/// Refuses control characters in the location and in every property name and value, naming the
/// property (never its value: it may be a secret).
std::optional<remote_error> check_control_characters(std::string_view location, const property_list& props) {
    if (auto c = control_character(location)) {
        return bad(fmt::format("Invalid repository location: it contains the control character 0x{:02X}; "
                               "control characters (0x00-0x1F, 0x7F) are not allowed",
                               *c));
    }
    for (const auto& [name, value] : props) {
        if (control_character(name)) {
            return bad("Invalid repository property name: it contains a control character (0x00-0x1F, 0x7F)");
        }
        if (auto c = control_character(value)) {
            return bad(fmt::format("Invalid value for repository property '{}': it contains the control character "
                                   "0x{:02X}; control characters (0x00-0x1F, 0x7F) are not allowed",
                                   name, *c));
        }
    }
    return std::nullopt;
}

/// The value given for each setting, and under which name.
struct given {
    std::string name;
    std::string value;
};

std::optional<remote_error> parse_bool(const given& g, bool& out) {
    std::string v = ascii_lower(g.value);
    if (v == "true") {
        out = true;
    } else if (v == "false") {
        out = false;
    } else {
        return bad(fmt::format("Invalid value '{}' for repository property '{}': expected true or false", g.value,
                               g.name));
    }
    return std::nullopt;
}

remote_result<repository_config> parse_local(std::string_view location, std::string path,
                                             const property_list& props) {
    if (!props.empty()) {
        return bad(fmt::format("Repository property '{}' does not apply to a local location ({}): local "
                               "repositories take no properties",
                               props.front().first, location));
    }
    // '..' could climb out of any directory an operator allows; '//' and '.' are harmless and
    // normalized away, so that checks on the path compare like with like.
    auto normalized = normalize_local_path(path, "repository location");
    if (!normalized) {
        return normalized.error();
    }
    repository_config c;
    c.kind = store_kind::local;
    c.location = std::string(location);
    while (c.location.size() > 1 && c.location.back() == '/' && c.location != "file:///") {
        c.location.pop_back();
    }
    c.local_path = std::move(*normalized);
    return c;
}

/// "[http://|https://]host[:port][/]": the host[:port] into `host`, and into `https` whether
/// the value names a scheme (left alone when it does not).
std::optional<remote_error> split_endpoint(const given& g, std::optional<bool>& https, std::string& host) {
    std::string_view v = g.value;
    if (v.starts_with("https://")) {
        https = true;
        v.remove_prefix(8);
    } else if (v.starts_with("http://")) {
        https = false;
        v.remove_prefix(7);
    } else if (v.find("://") != v.npos) {
        return bad(fmt::format("Repository property '{}' has an unsupported scheme in '{}': use http:// or https://",
                               g.name, g.value));
    }
    while (!v.empty() && v.back() == '/') {
        v.remove_suffix(1);
    }
    if (v.empty() || v.find_first_of("/?# \t") != v.npos) {
        return bad(fmt::format("Invalid endpoint '{}' in repository property '{}': expected host[:port], with or "
                               "without http:// or https://",
                               g.value, g.name));
    }
    host = std::string(v);
    return std::nullopt;
}

/// The repository's endpoint: sets its host and, when a scheme is given, whether it is HTTPS.
std::optional<remote_error> parse_endpoint(const given& g, repository_config& c, std::optional<bool>& https) {
    std::string host;
    if (auto e = split_endpoint(g, https, host)) {
        return e;
    }
    c.endpoint_host = std::move(host);
    c.endpoint_given = true;
    c.endpoint_text = g.value;
    return std::nullopt;
}

/// "scheme://host[:port]" from a value with or without a scheme (`https_default` decides then).
std::optional<remote_error> normalize_url(const given& g, bool https_default, std::string& out) {
    std::optional<bool> https;
    std::string host;
    if (auto e = split_endpoint(g, https, host)) {
        return e;
    }
    out = fmt::format("{}://{}", https.value_or(https_default) ? "https" : "http", host);
    return std::nullopt;
}

/// The STS endpoint AssumeRole uses and the IMDS endpoint of the instance profile.
std::optional<remote_error> parse_credential_endpoints(const std::map<setting, given>& values, repository_config& c) {
    if (auto it = values.find(setting::imds_endpoint); it != values.end()) {
        if (auto e = normalize_url(it->second, false, c.imds_endpoint)) {
            return e;
        }
        c.imds_endpoint_text = it->second.value;
        if (c.imds_endpoint.starts_with("https://")) {
            return bad(fmt::format("Repository property '{}' must be an http:// URL: the instance metadata service "
                                   "speaks plain HTTP only",
                                   it->second.name));
        }
    }
    if (c.iam_role_arn.empty()) {
        return std::nullopt;
    }
    if (auto it = values.find(setting::sts_endpoint); it != values.end()) {
        c.sts_endpoint_text = it->second.value;
        return normalize_url(it->second, c.use_https, c.sts_endpoint);
    }
    // S3-compatible stores that implement STS (MinIO, Ceph RGW) serve it at their S3 endpoint;
    // AWS has a regional STS endpoint.
    c.sts_endpoint = c.endpoint_given ? fmt::format("{}://{}", c.use_https ? "https" : "http", c.endpoint_host)
                                      : fmt::format("https://sts.{}.amazonaws.com", c.region);
    c.sts_endpoint_text = c.endpoint_given ? c.endpoint_text : c.sts_endpoint;
    return std::nullopt;
}

remote_result<repository_config> parse_s3(std::string_view location, std::string_view scheme, std::string_view rest,
                                          const property_list& props) {
    repository_config c;
    c.kind = store_kind::s3;
    c.scheme = std::string(scheme);
    c.location = std::string(location);
    while (c.location.back() == '/') {
        c.location.pop_back();
    }
    size_t slash = rest.find('/');
    c.bucket = std::string(rest.substr(0, slash));
    if (slash != rest.npos) {
        std::string_view prefix = rest.substr(slash + 1);
        while (!prefix.empty() && prefix.back() == '/') {
            prefix.remove_suffix(1);
        }
        c.prefix = std::string(prefix);
    }
    if (c.bucket.empty() || c.bucket.find_first_of(" \t?#") != std::string::npos) {
        return bad(fmt::format("Invalid repository location '{}': expected {}://bucket[/prefix]", location, scheme));
    }

    std::map<setting, given> values;
    for (const auto& [name, value] : props) {
        const alias* a = find_alias(name);
        if (a == nullptr) {
            return bad(fmt::format("Unknown repository property '{}'; accepted names are aws.s3.*, fs.s3a.*, AWS_* "
                                   "and s3.* (see docs/sql/repository.md)",
                                   name));
        }
        auto [it, inserted] = values.try_emplace(a->what, given{name, value});
        if (!inserted && it->second.value != value) {
            // Values are not printed: either may be a secret.
            return bad(fmt::format("Repository properties '{}' and '{}' both set {}, to different values",
                                   it->second.name, name, a->description));
        }
    }
    auto has = [&](setting s) { return values.contains(s); };
    auto name_of = [&](setting s) { return values.at(s).name; };

    if (has(setting::access_key) != has(setting::secret_key)) {
        return has(setting::access_key)
                   ? bad(fmt::format("Repository property '{}' is set without a secret key (aws.s3.secret_key)",
                                     name_of(setting::access_key)))
                   : bad(fmt::format("Repository property '{}' is set without an access key (aws.s3.access_key)",
                                     name_of(setting::secret_key)));
    }
    bool static_keys = has(setting::access_key);
    if (has(setting::session_token) && !static_keys) {
        return bad(fmt::format("Repository property '{}' needs an access key and a secret key with it",
                               name_of(setting::session_token)));
    }
    bool instance_profile = false;
    if (has(setting::use_instance_profile)) {
        if (auto e = parse_bool(values.at(setting::use_instance_profile), instance_profile)) {
            return *e;
        }
    }
    if (instance_profile && static_keys) {
        return bad(fmt::format("Repository properties '{}' and '{}' contradict each other: use either the "
                               "instance profile or static keys",
                               name_of(setting::use_instance_profile), name_of(setting::access_key)));
    }
    if (has(setting::iam_role_arn) && !static_keys && !instance_profile) {
        return bad(fmt::format("Repository property '{}' needs a credential source to assume the role with: "
                               "static keys (aws.s3.access_key, aws.s3.secret_key) or aws.s3.use_instance_profile",
                               name_of(setting::iam_role_arn)));
    }
    if (has(setting::external_id) && !has(setting::iam_role_arn)) {
        return bad(fmt::format("Repository property '{}' needs aws.s3.iam_role_arn", name_of(setting::external_id)));
    }
    if (has(setting::sts_endpoint) && !has(setting::iam_role_arn)) {
        return bad(fmt::format("Repository property '{}' needs aws.s3.iam_role_arn", name_of(setting::sts_endpoint)));
    }
    if (has(setting::imds_endpoint) && !instance_profile) {
        return bad(fmt::format("Repository property '{}' needs aws.s3.use_instance_profile = true",
                               name_of(setting::imds_endpoint)));
    }
    c.credentials = static_keys        ? credential_source::static_keys
                    : instance_profile ? credential_source::instance_profile
                                       : credential_source::environment;
    if (static_keys) {
        c.access_key = values.at(setting::access_key).value;
        c.secret_key = values.at(setting::secret_key).value;
        if (c.access_key.empty() || c.secret_key.empty()) {
            return bad("Repository access key and secret key must not be empty");
        }
    }
    if (has(setting::session_token)) {
        c.session_token = values.at(setting::session_token).value;
    }
    if (has(setting::iam_role_arn)) {
        c.iam_role_arn = values.at(setting::iam_role_arn).value;
    }
    if (has(setting::external_id)) {
        c.external_id = values.at(setting::external_id).value;
    }

    // Endpoint, transport and addressing.
    std::optional<bool> endpoint_https;
    if (has(setting::endpoint)) {
        if (auto e = parse_endpoint(values.at(setting::endpoint), c, endpoint_https)) {
            return *e;
        }
    }
    std::optional<bool> enable_ssl;
    if (has(setting::enable_ssl)) {
        bool v = true;
        if (auto e = parse_bool(values.at(setting::enable_ssl), v)) {
            return *e;
        }
        enable_ssl = v;
    }
    if (endpoint_https && enable_ssl && *endpoint_https != *enable_ssl) {
        return bad(fmt::format("Repository properties '{}' and '{}' contradict each other: the endpoint's scheme "
                               "says {}",
                               name_of(setting::endpoint), name_of(setting::enable_ssl),
                               *endpoint_https ? "https" : "http"));
    }
    c.use_https = endpoint_https.value_or(enable_ssl.value_or(true));
    if (has(setting::tls_verify)) {
        if (auto e = parse_bool(values.at(setting::tls_verify), c.verify_tls)) {
            return *e;
        }
    }
    if (has(setting::ca_file)) {
        c.ca_file = values.at(setting::ca_file).value;
        if (!c.use_https) {
            return bad(fmt::format("Repository property '{}' needs an HTTPS endpoint", name_of(setting::ca_file)));
        }
        if (c.ca_file.empty() || c.ca_file.front() != '/') {
            return bad(fmt::format("Repository property '{}' must be an absolute path", name_of(setting::ca_file)));
        }
    }
    if (!c.endpoint_given && scheme == "gs") {
        c.endpoint_host = "storage.googleapis.com";  // Cloud Storage's S3 interoperability endpoint
        c.endpoint_given = true;
        c.endpoint_text = fmt::format("{}://{}", c.use_https ? "https" : "http", c.endpoint_host);
    }
    c.region = has(setting::region) ? values.at(setting::region).value : (scheme == "gs" ? "auto" : "us-east-1");
    if (c.region.empty()) {
        return bad(fmt::format("Repository property '{}' must not be empty", name_of(setting::region)));
    }
    if (!c.endpoint_given) {
        c.endpoint_host = fmt::format("s3.{}.amazonaws.com", c.region);
        c.endpoint_text = fmt::format("{}://{}", c.use_https ? "https" : "http", c.endpoint_host);
    }
    if (auto e = parse_credential_endpoints(values, c)) {
        return *e;
    }
    // Path-style for any explicit endpoint (MinIO, Ceph RGW, GCS): bucket names there need not
    // be DNS names; AWS itself is addressed virtual-hosted.
    c.path_style = c.endpoint_given;
    if (has(setting::path_style)) {
        if (auto e = parse_bool(values.at(setting::path_style), c.path_style)) {
            return *e;
        }
    }
    // Over plain HTTP nothing else protects the body, so the signature covers it by default.
    c.signing = c.use_https ? payload_signing::unsigned_payload : payload_signing::signed_payload;
    if (has(setting::payload_signing)) {
        std::string v = ascii_lower(values.at(setting::payload_signing).value);
        if (v == "signed") {
            c.signing = payload_signing::signed_payload;
        } else if (v == "unsigned") {
            c.signing = payload_signing::unsigned_payload;
        } else {
            return bad(fmt::format("Invalid value '{}' for repository property '{}': expected signed or unsigned",
                                   values.at(setting::payload_signing).value, name_of(setting::payload_signing)));
        }
    }
    return c;
}

}  // namespace

std::string_view supported_locations() {
    return "file:///absolute/path, an absolute path, s3://bucket/prefix, s3a://, s3n:// or gs://";
}

remote_result<repository_config> parse_repository_config(std::string_view location, const property_list& props) {
    if (auto e = check_control_characters(location, props)) {
        return *e;
    }
    if (location.starts_with("/")) {
        return parse_local(location, std::string(location), props);
    }
    size_t colon = location.find("://");
    if (colon == location.npos) {
        return bad(fmt::format("Invalid repository location '{}': use {}", location, supported_locations()));
    }
    std::string scheme = ascii_lower(location.substr(0, colon));
    std::string_view rest = location.substr(colon + 3);
    if (scheme == "file") {
        if (!rest.starts_with("/")) {
            return bad(fmt::format("Invalid repository location '{}': a file location is file:///absolute/path",
                                   location));
        }
        return parse_local(location, std::string(rest), props);
    }
    if (scheme == "s3" || scheme == "s3a" || scheme == "s3n" || scheme == "gs") {
        return parse_s3(location, scheme, rest, props);
    }
    return make_remote_error(remote_errc::not_supported,
                             fmt::format("{}:// repositories are not supported; supported locations: {}", scheme,
                                         supported_locations()));
}

bool is_secret_property(std::string_view name) {
    const alias* a = find_alias(name);
    if (a != nullptr) {
        return secret_setting(a->what);
    }
    // Names we do not know could still hold a secret (a mistyped "aws.s3.secret_kye").
    std::string lower = ascii_lower(name);
    return lower.find("secret") != lower.npos || lower.find("token") != lower.npos ||
           lower.find("password") != lower.npos || lower.find("key") != lower.npos;
}

property_list redact_properties(const property_list& props) {
    property_list out = props;
    for (auto& [name, value] : out) {
        if (is_secret_property(name)) {
            value = "******";
        }
    }
    return out;
}

std::string repository_config::redacted() const {
    if (kind == store_kind::local) {
        return fmt::format("local {}", local_path);
    }
    std::string creds;
    switch (credentials) {
    case credential_source::environment: creds = "environment"; break;
    case credential_source::static_keys:
        creds = fmt::format("static access_key=****** secret_key=******{}",
                            session_token.empty() ? "" : " session_token=******");
        break;
    case credential_source::instance_profile: creds = "instance_profile"; break;
    }
    std::string role = iam_role_arn.empty()
                           ? std::string{}
                           : fmt::format(" assume_role={}{} sts_endpoint={}", iam_role_arn,
                                         external_id.empty() ? "" : " external_id=******", sts_endpoint);
    if (!imds_endpoint.empty()) {
        creds += " imds_endpoint=" + imds_endpoint;
    }
    return fmt::format("{} bucket={} prefix={} endpoint={}://{} region={} addressing={} credentials={}{} payload={}{}{}",
                       location, bucket, prefix.empty() ? "(none)" : prefix, use_https ? "https" : "http",
                       endpoint_host, region, path_style ? "path-style" : "virtual-hosted", creds, role,
                       signing == payload_signing::signed_payload ? "signed" : "unsigned",
                       ca_file.empty() ? "" : " ca_file=" + ca_file, verify_tls ? "" : " tls_verify=false");
}

}  // namespace tv::remote
