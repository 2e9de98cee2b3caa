// SPDX-License-Identifier: Apache-2.0
// AWS Signature Version 4 for requests signed in the Authorization header: canonical request,
// string to sign, signature, and the headers to send with it (generic AWS rules and S3's rules).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace tv::remote {

/// x-amz-content-sha256 value for a body that is sent but not hashed (S3 accepts it over any
/// transport; over plain HTTP it leaves the body unprotected, so the repository chooses).
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";
/// SHA-256 of the empty string: the payload hash of every request without a body.
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct http_header {
    std::string name;
    std::string value;
    bool operator==(const http_header&) const = default;
};

/// One query parameter, decoded (the signer does the encoding). A key without a value is a
/// parameter with an empty value: `?uploads` signs as `uploads=`.
struct query_param {
    std::string key;
    std::string value;
};

struct aws_credentials {
    std::string access_key;
    std::string secret_key;
    std::string session_token;  ///< empty for long-term keys
};

/// How the canonical URI is made from the path as sent.
enum class uri_rules {
    /// Every service but S3: remove `.`/`..` segments and empty segments, then percent-encode
    /// the path as sent once more (so a key encoded once on the wire is encoded twice here).
    generic,
    /// S3: no normalisation (`/a//b/../c` names that object); the path is encoded exactly once,
    /// as S3 and RGW recompute it (decode what was sent, encode with the RFC 3986 set).
    s3,
};

struct sigv4_options {
    uri_rules uri = uri_rules::generic;
    /// Send and sign x-amz-content-sha256 (S3 requires it; other services do not know it).
    bool content_sha256_header = false;
    /// Sign x-amz-security-token (S3 and most services). Some services want it added only after
    /// signing; false does that (the suite's post-sts-header-after case).
    bool sign_session_token = true;

    static sigv4_options s3() { return {uri_rules::s3, true, true}; }
};

/// The parts of an HTTP request that SigV4 covers.
struct sigv4_request {
    std::string method;
    /// The path exactly as it goes on the request line (percent-encoded, no query). Build S3
    /// paths with uri_encode_path() so that the wire and the signature agree.
    std::string path = "/";
    std::vector<query_param> query;
    /// Every header to sign, Host included. Headers that must not be signed (Expect: proxies
    /// may drop it; User-Agent) are added by the caller after signing. Authorization,
    /// x-amz-date and the headers the signer owns are replaced by the signer's values.
    std::vector<http_header> headers;
    /// Hex SHA-256 of the body, or unsigned_payload.
    std::string payload_hash = std::string(empty_payload_sha256);
};

struct sigv4_signature {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signed_headers;  ///< "host;x-amz-date"
    std::string signature;       ///< lowercase hex
    std::string authorization;   ///< the Authorization header's value
    /// Headers to set on the request (replacing any of the same name), in this order:
    /// X-Amz-Date, X-Amz-Content-Sha256 (if enabled), X-Amz-Security-Token (with a session
    /// token), Authorization.
    std::vector<http_header> headers;
};

using sha256_digest = std::array<unsigned char, 32>;
/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
using sigv4_key = sha256_digest;

/// Signing keys depend only on (secret, date, region, service), so a client derives one per
/// day per scope instead of four HMACs per request. Holds a few entries (credentials that
/// rotate, a date that rolls over). Not thread-safe: one per event loop or per signer.
class sigv4_key_cache {
public:
    sigv4_key get(const aws_credentials& credentials, std::string_view date, std::string_view region,
                  std::string_view service);
    /// How many keys were derived (rather than found); tests use it to prove the cache works.
    std::uint64_t derivations() const noexcept { return _derivations; }

    sigv4_key_cache() = default;
    sigv4_key_cache(const sigv4_key_cache&) = delete;
    sigv4_key_cache& operator=(const sigv4_key_cache&) = delete;
    sigv4_key_cache(sigv4_key_cache&&) = default;
    sigv4_key_cache& operator=(sigv4_key_cache&& other) noexcept;
    ~sigv4_key_cache();

private:
    struct entry {
        std::string secret;
        std::string date;
        std::string region;
        std::string service;
        sigv4_key key;
    };
    static void wipe(entry& e) noexcept;  // best effort: zero a secret and key before their memory goes

    static constexpr std::size_t max_entries = 4;
    std::vector<entry> _entries;  // most recently used last
    std::uint64_t _derivations = 0;
};

/// Signs requests for one region and service (e.g. "us-east-1", "s3"). Errors: std::invalid_argument
/// for a request that cannot be signed (no Host header, empty payload hash) - a programming error
/// of the caller; std::runtime_error if OpenSSL fails.
class sigv4_signer {
public:
    sigv4_signer(std::string region, std::string service, sigv4_options options = {});

    sigv4_signature sign(const sigv4_request& request, const aws_credentials& credentials,
                         std::chrono::system_clock::time_point when);

    const std::string& region() const noexcept { return _region; }
    const std::string& service() const noexcept { return _service; }
    const sigv4_options& options() const noexcept { return _options; }
    const sigv4_key_cache& key_cache() const noexcept { return _keys; }

private:
    std::string _region;
    std::string _service;
    sigv4_options _options;
    sigv4_key_cache _keys;
};

// ---- building blocks (the S3 client needs them for request lines and bodies) -------------------

/// Percent-encodes every byte except A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash), uppercase hex.
std::string uri_encode(std::string_view s, bool keep_slash);
/// uri_encode(s, true): the request-line path of an S3 object ("/bucket/a b+=.txt" ->
/// "/bucket/a%20b%2B%3D.txt").
inline std::string uri_encode_path(std::string_view raw_path) {
    return uri_encode(raw_path, true);
}
/// Decodes %XX escapes; a '%' not followed by two hex digits stays as it is; '+' is not a space.
std::string percent_decode(std::string_view s);

std::string canonical_uri(std::string_view path_as_sent, uri_rules rules);
/// Encoded, sorted by key then value, joined with '&'; usable as the query on the request line.
std::string canonical_query_string(std::span<const query_param> query);
/// A header value as SigV4 signs it: surrounding whitespace trimmed, inner runs of spaces and tabs
/// collapsed to one space, folded (multi-line) values joined with ','.
std::string canonical_header_value(std::string_view value);
/// "20150830T123600Z" (UTC, whole seconds).
std::string format_amz_date(std::chrono::system_clock::time_point when);

sha256_digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);
sha256_digest hmac_sha256(std::span<const unsigned char> key, std::string_view data);
std::string hex_lower(std::span<const unsigned char> bytes);
sigv4_key derive_signing_key(std::string_view secret_key, std::string_view date, std::string_view region,
                             std::string_view service);

/// SHA-256 over a body that arrives in pieces (signed PUT payloads, upload parts).
class sha256_hasher {
public:
    sha256_hasher();
    void update(std::span<const std::byte> data);
    void update(std::string_view data);
    /// The digest as lowercase hex; the hasher starts over afterwards.
    std::string finish_hex();

private:
    struct ctx_deleter {
        void operator()(evp_md_ctx_st* ctx) const noexcept;
    };
    std::unique_ptr<evp_md_ctx_st, ctx_deleter> _ctx;
};

}  // namespace tv::remote
