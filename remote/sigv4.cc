// SPDX-License-Identifier: Apache-2.0
// AWS Signature Version 4: canonicalisation rules, key derivation and HMAC-SHA256 through OpenSSL's
// EVP interfaces, checked against AWS's published test suite (tests/data/sigv4).
#include "remote/sigv4.hh"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

namespace tv::remote {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view hex_digits = "0123456789abcdef";

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

[[noreturn]] void openssl_failed(const char* what) {
    throw std::runtime_error(fmt::format("sigv4: OpenSSL {} failed", what));
}

// Fetched once: an implicit fetch on every call costs a provider lookup per HMAC.
EVP_MAC* hmac_algorithm() {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) {
        openssl_failed("EVP_MAC_fetch(HMAC)");
    }
    return mac;
}

const EVP_MD* sha256_algorithm() {
    static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md == nullptr) {
        openssl_failed("EVP_MD_fetch(SHA256)");
    }
    return md;
}

// Generic services: RFC 3986 dot-segment removal plus dropping empty segments, the way the AWS
// SDKs do it (a trailing '/' survives only if something is left before it).
std::string normalize_path(std::string_view path) {
    std::vector<std::string_view> segments;
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            slash = path.size();
        }
        std::string_view segment = path.substr(start, slash - start);
        if (segment == "..") {
            if (!segments.empty()) {
                segments.pop_back();
            }
        } else if (!segment.empty() && segment != ".") {
            segments.push_back(segment);
        }
        start = slash + 1;
    }
    std::string out = "/";
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (i > 0) {
            out += '/';
        }
        out += segments[i];
    }
    if (!segments.empty() && path.ends_with('/')) {
        out += '/';
    }
    return out;
}

}  // namespace

// ---- encoding ----------------------------------------------------------------------------------

std::string uri_encode(std::string_view s, bool keep_slash) {
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out += ch;
        } else {
            out += '%';
            out += static_cast<char>("0123456789ABCDEF"[c >> 4]);
            out += static_cast<char>("0123456789ABCDEF"[c & 0xF]);
        }
    }
    return out;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string canonical_uri(std::string_view path_as_sent, uri_rules rules) {
    if (rules == uri_rules::generic) {
        return uri_encode(normalize_path(path_as_sent), true);
    }
    // S3 servers decode the request path and encode the key again with the RFC 3986 set, so
    // recoding here gives their canonical URI whether the caller's path was encoded or not.
    std::string out = uri_encode(percent_decode(path_as_sent), true);
    if (out.empty() || out.front() != '/') {
        out.insert(out.begin(), '/');
    }
    return out;
}

std::string canonical_query_string(std::span<const query_param> query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(query.size());
    for (const auto& p : query) {
        encoded.emplace_back(uri_encode(p.key, false), uri_encode(p.value, false));
    }
    // Sorted after encoding, byte-wise: that is the order the server recomputes.
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [key, value] : encoded) {
        if (!out.empty()) {
            out += '&';
        }
        out += key;
        out += '=';
        out += value;
    }
    return out;
}

std::string canonical_header_value(std::string_view value) {
    std::string out;
    bool first_line = true;
    while (true) {
        std::size_t nl = value.find('\n');
        std::string_view line = trim(value.substr(0, nl));
        // A folded continuation line counts as another value of the same header (the suite's
        // get-header-value-multiline), so it is joined like a repeated header.
        if (!line.empty() || first_line) {
            if (!first_line) {
                out += ',';
            }
            bool blank_run = false;
            for (char c : line) {
                if (is_blank(c)) {
                    blank_run = true;
                    continue;
                }
                if (blank_run) {
                    out += ' ';
                    blank_run = false;
                }
                out += c;
            }
            first_line = false;
        }
        if (nl == std::string_view::npos) {
            break;
        }
        value.remove_prefix(nl + 1);
    }
    return out;
}

std::string format_amz_date(std::chrono::system_clock::time_point when) {
    using namespace std::chrono;
    auto secs = floor<seconds>(when);
    auto day = floor<days>(secs);
    year_month_day ymd{day};
    hh_mm_ss hms{secs - day};
    return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count());
}

// ---- hashing -----------------------------------------------------------------------------------

sha256_digest sha256(std::string_view data) {
    sha256_digest out{};
    unsigned int length = 0;
    if (EVP_Digest(data.data(), data.size(), out.data(), &length, sha256_algorithm(), nullptr) != 1 ||
        length != out.size()) {
        openssl_failed("EVP_Digest(SHA256)");
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    return hex_lower(sha256(data));
}

sha256_digest hmac_sha256(std::span<const unsigned char> key, std::string_view data) {
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(hmac_algorithm()),
                                                                   &EVP_MAC_CTX_free);
    if (!ctx) {
        openssl_failed("EVP_MAC_CTX_new");
    }
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                           OSSL_PARAM_construct_end()};
    sha256_digest out{};
    std::size_t length = 0;
    if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1 || length != out.size()) {
        openssl_failed("HMAC-SHA256");
    }
    return out;
}

std::string hex_lower(std::span<const unsigned char> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += hex_digits[b >> 4];
        out += hex_digits[b & 0xF];
    }
    return out;
}

sigv4_key derive_signing_key(std::string_view secret_key, std::string_view date, std::string_view region,
                             std::string_view service) {
    std::string seed = "AWS4";
    seed += secret_key;
    auto k_date = hmac_sha256({reinterpret_cast<const unsigned char*>(seed.data()), seed.size()}, date);
    OPENSSL_cleanse(seed.data(), seed.size());
    auto k_region = hmac_sha256(k_date, region);
    auto k_service = hmac_sha256(k_region, service);
    return hmac_sha256(k_service, "aws4_request");
}

sha256_hasher::sha256_hasher() : _ctx(EVP_MD_CTX_new()) {
    if (!_ctx || EVP_DigestInit_ex(_ctx.get(), sha256_algorithm(), nullptr) != 1) {
        openssl_failed("EVP_DigestInit_ex(SHA256)");
    }
}

void sha256_hasher::ctx_deleter::operator()(evp_md_ctx_st* ctx) const noexcept {
    EVP_MD_CTX_free(ctx);
}

void sha256_hasher::update(std::span<const std::byte> data) {
    if (EVP_DigestUpdate(_ctx.get(), data.data(), data.size()) != 1) {
        openssl_failed("EVP_DigestUpdate");
    }
}

void sha256_hasher::update(std::string_view data) {
    update(std::as_bytes(std::span{data.data(), data.size()}));
}

std::string sha256_hasher::finish_hex() {
    sha256_digest out{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(_ctx.get(), out.data(), &length) != 1 || length != out.size() ||
        EVP_DigestInit_ex(_ctx.get(), sha256_algorithm(), nullptr) != 1) {
        openssl_failed("EVP_DigestFinal_ex");
    }
    return hex_lower(out);
}

// ---- key cache and signer ----------------------------------------------------------------------

void sigv4_key_cache::wipe(entry& e) noexcept {
    OPENSSL_cleanse(e.secret.data(), e.secret.size());
    OPENSSL_cleanse(e.key.data(), e.key.size());
}

sigv4_key_cache& sigv4_key_cache::operator=(sigv4_key_cache&& other) noexcept {
    if (this != &other) {
        for (auto& e : _entries) {
            wipe(e);
        }
        _entries = std::move(other._entries);
        other._entries.clear();
        _derivations = other._derivations;
    }
    return *this;
}

sigv4_key_cache::~sigv4_key_cache() {
    for (auto& e : _entries) {
        wipe(e);
    }
}

sigv4_key sigv4_key_cache::get(const aws_credentials& credentials, std::string_view date, std::string_view region,
                               std::string_view service) {
    for (auto it = _entries.begin(); it != _entries.end(); ++it) {
        if (it->date == date && it->region == region && it->service == service &&
            it->secret == credentials.secret_key) {
            sigv4_key key = it->key;
            std::rotate(it, it + 1, _entries.end());  // most recently used last
            return key;
        }
    }
    if (_entries.size() == max_entries) {
        wipe(_entries.front());
        _entries.erase(_entries.begin());
    }
    sigv4_key key = derive_signing_key(credentials.secret_key, date, region, service);
    ++_derivations;
    _entries.push_back({credentials.secret_key, std::string(date), std::string(region), std::string(service), key});
    return key;
}

sigv4_signer::sigv4_signer(std::string region, std::string service, sigv4_options options)
    : _region(std::move(region)), _service(std::move(service)), _options(options) {}

sigv4_signature sigv4_signer::sign(const sigv4_request& request, const aws_credentials& credentials,
                                   std::chrono::system_clock::time_point when) {
    if (request.payload_hash.empty()) {
        throw std::invalid_argument("sigv4: the request has no payload hash (use UNSIGNED-PAYLOAD explicitly)");
    }
    const std::string amz_date = format_amz_date(when);
    const std::string_view day = std::string_view(amz_date).substr(0, 8);
    const bool has_token = !credentials.session_token.empty();

    // Headers the signer owns replace the caller's copies, so a request can be signed again
    // (a retry) without duplicating them.
    auto owned = [&](const std::string& name) {
        return name == "authorization" || name == "x-amz-date" ||
               (_options.content_sha256_header && name == "x-amz-content-sha256") ||
               (has_token && name == "x-amz-security-token");
    };
    std::map<std::string, std::string> canonical;  // sorted by lowercase name
    for (const auto& h : request.headers) {
        std::string name = lower(trim(h.name));
        if (owned(name)) {
            continue;
        }
        std::string value = canonical_header_value(h.value);
        auto [it, inserted] = canonical.try_emplace(std::move(name), value);
        if (!inserted) {
            it->second += ',';
            it->second += value;
        }
    }
    if (!canonical.contains("host")) {
        throw std::invalid_argument("sigv4: the request has no Host header");
    }
    canonical["x-amz-date"] = amz_date;
    if (_options.content_sha256_header) {
        canonical["x-amz-content-sha256"] = request.payload_hash;
    }
    if (has_token && _options.sign_session_token) {
        canonical["x-amz-security-token"] = canonical_header_value(credentials.session_token);
    }

    sigv4_signature out;
    std::string& creq = out.canonical_request;
    creq = request.method;
    creq += '\n';
    creq += canonical_uri(request.path, _options.uri);
    creq += '\n';
    creq += canonical_query_string(request.query);
    creq += '\n';
    for (const auto& [name, value] : canonical) {
        creq += name;
        creq += ':';
        creq += value;
        creq += '\n';
        if (!out.signed_headers.empty()) {
            out.signed_headers += ';';
        }
        out.signed_headers += name;
    }
    creq += '\n';
    creq += out.signed_headers;
    creq += '\n';
    creq += request.payload_hash;

    const std::string scope = fmt::format("{}/{}/{}/aws4_request", day, _region, _service);
    out.string_to_sign = fmt::format("{}\n{}\n{}\n{}", algorithm, amz_date, scope, sha256_hex(creq));
    const sigv4_key key = _keys.get(credentials, day, _region, _service);
    out.signature = hex_lower(hmac_sha256(key, out.string_to_sign));
    out.authorization = fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", algorithm,
                                    credentials.access_key, scope, out.signed_headers, out.signature);

    out.headers.push_back({"X-Amz-Date", amz_date});
    if (_options.content_sha256_header) {
        out.headers.push_back({"X-Amz-Content-Sha256", request.payload_hash});
    }
    if (has_token) {
        out.headers.push_back({"X-Amz-Security-Token", credentials.session_token});
    }
    out.headers.push_back({"Authorization", out.authorization});
    return out;
}

}  // namespace tv::remote
