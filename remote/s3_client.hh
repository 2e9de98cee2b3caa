// SPDX-License-Identifier: Apache-2.0
// s3_client: the S3 requests a repository needs, SigV4-signed, over http_client, with S3's
// error documents parsed and transient failures retried, over HTTP or HTTPS.
#pragma once

#include "remote/credentials.hh"
#include "remote/http_client.hh"
#include "remote/object_store.hh"
#include "remote/remote_error.hh"
#include "remote/retry.hh"
#include "remote/sigv4.hh"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

namespace tv::remote {

enum class s3_error_kind {
    http,       ///< the server answered with an error status (code/message/request_id from its body)
    network,    ///< connect, send or receive failed (reset, refused, closed mid-response)
    timeout,    ///< connect or request deadline passed
    cancelled,  ///< the caller's stop token
    protocol,   ///< an answer we cannot use (malformed XML, missing fields, oversized body)
    credentials,  ///< the credentials provider failed (environment, IMDS, STS); see `cause`
};

/// Every failure of an S3 request. `message` is for users: it names the operation, the key and
/// S3's code, and never carries credentials.
struct s3_error {
    s3_error_kind kind = s3_error_kind::http;
    int http_status = 0;     ///< 0 when there was no HTTP answer
    std::string code;        ///< S3's error code ("NoSuchKey", "SignatureDoesNotMatch"), or empty
    std::string message;     ///< what failed and why, ready to show
    std::string request_id;  ///< x-amz-request-id or <RequestId>, for the store's operators
    bool retryable = false;
    /// The store asked for fewer requests (503, 429, SlowDown): retried longer, and not before
    /// `retry_after` (its Retry-After header; 0 when it gave none).
    bool throttled = false;
    std::chrono::milliseconds retry_after{0};
    int attempts = 1;        ///< how many times the request was sent
    remote_errc cause = remote_errc::io_error;  ///< kind credentials: the provider's error code
    /// No usable S3 answer: the connection failed (refused, reset, timed out, TLS), or what came
    /// back was not S3 (bad HTTP, an error status without an S3 error document, a body we cannot
    /// read). Users see only "could not reach endpoint E: connection failed": anything more
    /// would tell them what listens on a port they may not reach otherwise. `message` keeps
    /// the detail for the server log.
    bool transport = false;
    std::string endpoint;  ///< the endpoint as the user gave it (s3_client_options::endpoint_text)

    /// The object_store view: not_found, range_not_satisfiable, permission_denied or io_error;
    /// transport failures are io_error with the short message above.
    remote_error to_remote_error() const;
};

template <class T>
using s3_result = boost::system::result<T, s3_error>;

[[noreturn]] inline void throw_exception_from_error(const s3_error& e, const boost::source_location&) {
    throw std::runtime_error(e.message);
}

enum class s3_addressing {
    path,            ///< http://endpoint/bucket/key: the default for a custom endpoint
    virtual_hosted,  ///< http://bucket.endpoint/key: AWS's
};

enum class s3_payload_signing {
    signed_payload,    ///< x-amz-content-sha256 is the body's SHA-256 (the body is protected)
    unsigned_payload,  ///< UNSIGNED-PAYLOAD (cheaper; over plain HTTP the body is not protected)
};

struct s3_client_options {
    std::string endpoint_host;  ///< "127.0.0.1", "s3.eu-west-1.amazonaws.com" (no scheme)
    uint16_t endpoint_port = 80;  ///< 443 for HTTPS endpoints (set it with use_tls)
    /// HTTPS: the certificate must chain to `ca_file` (PEM; empty: the system store) and name
    /// the host of the request URL. verify_tls = false skips both checks (callers warn).
    bool use_tls = false;
    std::string ca_file;
    bool verify_tls = true;
    /// Connect here instead of resolving the (virtual-hosted) host name: tests and private DNS.
    std::string connect_host;
    /// The endpoint as the user gave it (aws.s3.endpoint), named in transport errors; empty:
    /// scheme://endpoint_host:endpoint_port.
    std::string endpoint_text;
    std::string region = "us-east-1";
    std::string bucket;
    s3_addressing addressing = s3_addressing::path;
    s3_payload_signing payload_signing = s3_payload_signing::signed_payload;
    retry_policy retry;  ///< how failed requests are sent again (the only retries there are)
    http_client_options http;
};

struct s3_object_head {
    uint64_t size = 0;
    std::string etag;
    int64_t modified_ms = 0;
    std::string content_type;
};

struct s3_list_page {
    std::vector<object_info> objects;
    std::string next_continuation_token;  ///< empty on the last page
    bool truncated = false;
};

struct s3_part {
    int number = 0;
    std::string etag;
    uint64_t size = 0;
};

/// A multipart upload the store holds (ListMultipartUploads).
struct s3_open_upload {
    std::string key;
    std::string upload_id;
    int64_t initiated_ms = 0;  ///< 0 when the store's date was unreadable
};

struct s3_uploads_page {
    std::vector<s3_open_upload> uploads;
    std::string next_key_marker;        ///< where the next page starts (with the upload id marker)
    std::string next_upload_id_marker;
    bool truncated = false;
};

/// Counters for tests and metrics.
struct s3_client_stats {
    uint64_t attempts = 0;  ///< HTTP requests sent, retries included
    uint64_t retries = 0;
};

/// One client per event loop (its http_client pool is per loop). Keys are raw object keys;
/// the client encodes them. Coroutine parameters are by value (docs/architecture.md); bodies
/// passed as spans must outlive the awaited call.
class s3_client {
public:
    s3_client(s3_client_options options, aws_credentials credentials);
    /// Asks `credentials` before signing each attempt (it must belong to this client's loop).
    s3_client(s3_client_options options, std::shared_ptr<credentials_provider> credentials);

    io::task<s3_result<void>> create_bucket(call_options call = {});
    /// The new object's ETag.
    io::task<s3_result<std::string>> put_object(std::string key, std::span<const std::byte> body,
                                                call_options call = {}, body_pacer pacer = {});
    io::task<s3_result<std::string>> get_object(std::string key, std::optional<byte_range> range = {},
                                                call_options call = {});
    /// Bytes [offset, offset + into.size()) straight into `into` (no copy of the body through
    /// memory of our own); fewer at the end of the object. `into` must outlive the call.
    /// `pacer` paces the answer as it arrives (see http_client_request::response_pacer).
    io::task<s3_result<size_t>> get_object_into(std::string key, uint64_t offset, std::span<std::byte> into,
                                                call_options call = {}, body_pacer pacer = {});
    io::task<s3_result<s3_object_head>> head_object(std::string key, call_options call = {});
    io::task<s3_result<void>> delete_object(std::string key, call_options call = {});
    /// One page; `max_keys` 0 leaves it to the server (1,000).
    io::task<s3_result<s3_list_page>> list_objects_v2(std::string prefix, std::string continuation_token,
                                                      int max_keys = 0, call_options call = {});
    /// Every page, following continuation tokens.
    io::task<s3_result<std::vector<object_info>>> list_all(std::string prefix, int page_size = 0,
                                                           call_options call = {});
    /// Up to 1,000 keys per request (more are sent in batches). A key S3 reports as not deleted
    /// fails the call with its code.
    io::task<s3_result<void>> delete_objects(std::vector<std::string> keys, call_options call = {});

    io::task<s3_result<std::string>> create_multipart_upload(std::string key, call_options call = {});
    /// The part's ETag; parts are numbered from 1.
    io::task<s3_result<std::string>> upload_part(std::string key, std::string upload_id, int part_number,
                                                 std::span<const std::byte> body, call_options call = {},
                                                 body_pacer pacer = {});
    io::task<s3_result<std::string>> complete_multipart_upload(std::string key, std::string upload_id,
                                                               std::vector<s3_part> parts, call_options call = {});
    io::task<s3_result<void>> abort_multipart_upload(std::string key, std::string upload_id,
                                                     call_options call = {});
    io::task<s3_result<std::vector<s3_part>>> list_parts(std::string key, std::string upload_id,
                                                         call_options call = {});
    /// One page of the multipart uploads under `prefix`, after the markers (empty: from the
    /// start); `max_uploads` 0 leaves it to the server (1,000).
    io::task<s3_result<s3_uploads_page>> list_multipart_uploads(std::string prefix, std::string key_marker,
                                                                std::string upload_id_marker, int max_uploads = 0,
                                                                call_options call = {});
    /// Every page, following the markers.
    io::task<s3_result<std::vector<s3_open_upload>>> list_all_multipart_uploads(std::string prefix,
                                                                                      int page_size = 0,
                                                                                      call_options call = {});

    /// "s3://bucket at http://host:port" for messages.
    std::string describe() const;
    /// What transport errors name: options.endpoint_text, or the URL of the endpoint.
    std::string endpoint_text() const;
    const s3_client_stats& stats() const noexcept { return _stats; }
    http_client& http() noexcept { return _http; }

private:
    struct request;
    io::task<s3_result<io::http_client_response>> execute(request req, call_options call);
    io::task<s3_result<io::http_client_response>> execute_once(const request& req, std::stop_token stop);

    s3_client_options _options;
    std::shared_ptr<credentials_provider> _credentials;
    sigv4_signer _signer;
    http_client _http;
    std::mt19937_64 _random;
    s3_client_stats _stats;
};

/// object_store over one bucket and a key prefix ("" or ending in '/').
class s3_object_store final : public object_store {
public:
    s3_object_store(s3_client_options options, aws_credentials credentials, std::string prefix = {});
    s3_object_store(s3_client_options options, std::shared_ptr<credentials_provider> credentials,
                    std::string prefix = {});

    io::task<remote_result<void>> put(std::string key, std::span<const std::byte> data, call_options call = {},
                                      body_pacer pacer = {}) override;
    io::task<remote_result<std::string>> get(std::string key, std::optional<byte_range> range = {},
                                             call_options call = {}) override;
    io::task<remote_result<object_info>> head(std::string key, call_options call = {}) override;
    io::task<remote_result<std::vector<object_info>>> list(std::string prefix, call_options call = {}) override;
    io::task<remote_result<void>> remove(std::vector<std::string> keys, call_options call = {}) override;
    io::task<remote_result<size_t>> read(std::string key, uint64_t offset, std::span<std::byte> into,
                                         call_options call = {}, body_pacer pacer = {}) override;
    io::task<remote_result<std::unique_ptr<object_upload>>> begin_upload(std::string key,
                                                                         call_options call = {}) override;
    io::task<remote_result<resumed_upload>> resume_upload(std::string key, std::string upload_id,
                                                          call_options call = {}) override;
    /// Aborts the multipart uploads under `scope.prefix` that are not kept and older than the grace.
    io::task<remote_result<size_t>> sweep_abandoned_writes(sweep_scope scope, call_options call = {}) override;
    std::string describe() const override;
    std::string endpoint() const override { return _client.endpoint_text(); }

    s3_client& client() noexcept { return _client; }

private:
    s3_client _client;
    std::string _prefix;
};

}  // namespace tv::remote
