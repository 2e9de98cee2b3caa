// SPDX-License-Identifier: Apache-2.0
// s3_client: request building, signing and retries. Failures become s3_error values in
// s3_errors.cc, the XML scanner is in s3_xml.cc and the object_store adapter in
// s3_object_store.cc.
#include "remote/s3_client.hh"

#include "io/log.hh"
#include "io/metrics.hh"
#include "io/ops.hh"
#include "io/tls.hh"
#include "remote/s3_errors.hh"
#include "remote/s3_xml.hh"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <cstdlib>
#include <ctime>

namespace tv::remote {

struct s3_client::request {
    std::string op;  // S3's name for it, for messages: "PutObject"
    std::string method;
    std::string key;  // raw; empty for bucket-level requests
    std::vector<query_param> query;
    std::vector<http_header> headers;  // signed, besides Host
    std::span<const std::byte> body;
    std::string payload_hash;
    body_pacer pacer;
    body_pacer response_pacer;
    std::span<std::byte> response_into;
    std::function<void(uint64_t)> answer_progress;
    std::function<void()> body_sent;
};

namespace {

std::string_view as_text(std::span<const std::byte> body) {
    return {reinterpret_cast<const char*>(body.data()), body.size()};
}

std::span<const std::byte> as_bytes(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

/// Content-MD5: base64 of the body's MD5 (DeleteObjects requires it).
std::string content_md5(std::string_view body) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(body.data(), body.size(), digest, &length, EVP_md5(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL MD5 failed");
    }
    std::string out(4 * ((length + 2) / 3) + 1, '\0');
    int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), digest, static_cast<int>(length));
    out.resize(static_cast<size_t>(written));
    return out;
}

/// The ETag S3 gives an object completed from `parts` whose ETags are their MD5s: the MD5 of
/// the parts' binary MD5s, "-" and their count, quoted. Empty when a part's ETag is no MD5 (an
/// encrypted or non-AWS store): the object's ETag then cannot be foretold.
std::string multipart_etag(const std::vector<s3_part>& parts) {
    std::string digests;
    for (const auto& part : parts) {
        std::string_view hex = part.etag;
        if (hex.size() == 34 && hex.front() == '"' && hex.back() == '"') {
            hex = hex.substr(1, 32);
        }
        if (hex.size() != 32 || !std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) {
            return {};
        }
        for (size_t i = 0; i < 32; i += 2) {
            digests.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
        }
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(digests.data(), digests.size(), digest, &length, EVP_md5(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL MD5 failed");
    }
    std::string out = "\"";
    for (unsigned int i = 0; i < length; ++i) {
        out += fmt::format("{:02x}", digest[i]);
    }
    return out + fmt::format("-{}\"", parts.size());
}

/// What is wrong with the answer to a ranged GET from `offset` that brought `got` bytes, or
/// nothing: a 206 must say it holds exactly those bytes from `offset`; a 200 (Range ignored) is
/// right only from offset 0.
std::optional<std::string> range_answer_error(const io::http_client_response& r, uint64_t offset, size_t got) {
    if (r.status == 200) {
        if (offset == 0) {
            return std::nullopt;
        }
        return fmt::format("the store ignored the range from byte {} and sent the object from its start", offset);
    }
    std::string_view range = r.header("Content-Range");
    unsigned long long first = 0;
    unsigned long long last = 0;
    std::string text(range);
    if (std::sscanf(text.c_str(), "bytes %llu-%llu/", &first, &last) != 2 || first != offset || last < first ||
        last - first + 1 != got) {
        return fmt::format("asked for bytes from {}, got {} bytes labelled Content-Range '{}'", offset, got,
                           text.substr(0, 80));
    }
    return std::nullopt;
}

/// "2024-05-01T12:34:56.000Z" -> milliseconds since the epoch; 0 when unreadable.
int64_t parse_iso8601_ms(std::string_view text) {
    std::tm tm{};
    int millis = 0;
    std::string s(text);
    if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &millis) < 6) {
        return 0;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<int64_t>(::timegm(&tm)) * 1000 + millis;
}

// Every HTTP request sent (each attempt of a retried call), by S3's name for it and how it ended.
io::metrics::family<io::metrics::counter>& s3_requests = io::metrics::process_registry().add_counter(
    "tabletvault_s3_requests_total",
    "S3 requests sent, retries included, by operation and outcome: the HTTP status, or network, timeout "
    "or cancelled when no answer came.",
    {"op", "code"});
io::metrics::family<io::metrics::histogram>& s3_request_seconds = io::metrics::process_registry().add_histogram(
    "tabletvault_s3_request_duration_seconds",
    "Time from sending an S3 request to its answer's end, by operation (a paced upload's body counts in it).",
    {"op"}, io::metrics::latency_bounds_seconds());

std::string_view outcome_of(s3_error_kind kind) {
    switch (kind) {
    case s3_error_kind::timeout: return "timeout";
    case s3_error_kind::cancelled: return "cancelled";
    case s3_error_kind::protocol: return "protocol";
    default: return "network";
    }
}

std::string describe_target(const std::string& bucket, const std::string& key) {
    return key.empty() ? fmt::format("s3://{}", bucket) : fmt::format("s3://{}/{}", bucket, key);
}

}  // namespace

s3_client::s3_client(s3_client_options options, aws_credentials credentials)
    : s3_client(std::move(options), std::make_shared<static_credentials_provider>(std::move(credentials))) {}

s3_client::s3_client(s3_client_options options, std::shared_ptr<credentials_provider> credentials)
    : _options(std::move(options)), _credentials(std::move(credentials)),
      _signer(_options.region, "s3", sigv4_options::s3()), _http(_options.http), _random(std::random_device{}()) {}

std::string s3_client::endpoint_text() const {
    if (!_options.endpoint_text.empty()) {
        return _options.endpoint_text;
    }
    return fmt::format("{}://{}:{}", _options.use_tls ? "https" : "http", _options.endpoint_host,
                       _options.endpoint_port);
}

std::string s3_client::describe() const {
    return fmt::format("s3://{} at {}://{}:{}", _options.bucket, _options.use_tls ? "https" : "http",
                       _options.endpoint_host, _options.endpoint_port);
}

io::task<s3_result<io::http_client_response>> s3_client::execute_once(const request& req, std::stop_token stop) {
    bool virtual_hosted = _options.addressing == s3_addressing::virtual_hosted;
    std::string host_name = virtual_hosted ? _options.bucket + "." + _options.endpoint_host : _options.endpoint_host;
    uint16_t default_port = _options.use_tls ? 443 : 80;
    std::string host_header = _options.endpoint_port == default_port
                                  ? host_name
                                  : fmt::format("{}:{}", host_name, _options.endpoint_port);
    std::string raw_path = virtual_hosted ? "/" + req.key
                                          : "/" + _options.bucket + (req.key.empty() ? "" : "/" + req.key);

    sigv4_request signing;
    signing.method = req.method;
    signing.path = uri_encode_path(raw_path);
    signing.query = req.query;
    signing.headers.push_back(http_header{"Host", host_header});
    signing.headers.insert(signing.headers.end(), req.headers.begin(), req.headers.end());
    signing.payload_hash = req.payload_hash;
    // Asked per attempt: temporary credentials may have been refreshed since the last one.
    auto credentials = co_await _credentials->get();
    if (!credentials) {
        s3_error e;
        e.kind = s3_error_kind::credentials;
        e.cause = credentials.error().code;
        e.retryable = credentials.error().retryable;  // IMDS or STS unreachable: try again
        e.transport = !credentials.error().unreachable_endpoint.empty();
        e.endpoint = credentials.error().unreachable_endpoint;
        e.message = fmt::format("{} {}: {}", req.op, describe_target(_options.bucket, req.key),
                                credentials.error().message);
        co_return e;
    }
    auto signature = _signer.sign(signing, *credentials, std::chrono::system_clock::now());

    http_client_request out;
    out.method = req.method;
    out.target = signing.path;
    if (!req.query.empty()) {
        out.target += "?" + canonical_query_string(req.query);
    }
    for (const auto& h : signing.headers) {
        out.headers.emplace_back(h.name, h.value);
    }
    for (const auto& h : signature.headers) {
        out.headers.emplace_back(h.name, h.value);
    }
    out.headers.emplace_back("User-Agent", "tabletvault");
    out.body = req.body;
    out.pacer = req.pacer;
    out.response_pacer = req.response_pacer;
    out.response_into = req.response_into;
    out.answer_progress = req.answer_progress;
    out.body_sent = req.body_sent;

    http_endpoint endpoint{_options.connect_host.empty() ? host_name : _options.connect_host,
                           _options.endpoint_port};
    endpoint.use_tls = _options.use_tls;
    endpoint.tls_server_name = host_name;  // the URL's host, whatever address we connect to
    endpoint.ca_file = _options.ca_file;
    endpoint.verify_tls = _options.verify_tls;
    ++_stats.attempts;
    std::string target = describe_target(_options.bucket, req.key);
    auto sent_at = std::chrono::steady_clock::now();
    auto response = co_await _http.send(endpoint, std::move(out), stop);
    s3_request_seconds.with({req.op})
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count());
    if (!response) {
        s3_error failed = io_failure(response.error(), req.op, target, endpoint);
        s3_requests.with({req.op, outcome_of(failed.kind)}).add();
        co_return failed;
    }
    s3_requests.with({req.op, std::to_string(response->status)}).add();
    if (response->status >= 300) {
        co_return http_failure(*response, req.op, target, req.method == "HEAD");
    }
    // CompleteMultipartUpload can fail after its 200 head was sent: the error is in the body.
    if (req.op == "CompleteMultipartUpload" && !xml::find(response->body, "CompleteMultipartUploadResult") &&
        xml::find(response->body, "Code")) {
        co_return http_failure(*response, req.op, target, false);
    }
    co_return std::move(*response);
}

io::task<s3_result<io::http_client_response>> s3_client::execute(request req, call_options call) {
    if (req.body.empty()) {
        req.payload_hash = std::string(empty_payload_sha256);
    } else if (_options.payload_signing == s3_payload_signing::signed_payload) {
        req.payload_hash = sha256_hex(as_text(req.body));
    } else {
        req.payload_hash = std::string(unsigned_payload);
    }
    const retry_policy& policy = _options.retry;
    auto started = std::chrono::steady_clock::now();
    for (int attempt = 1;; ++attempt) {
        auto r = co_await execute_once(req, call.stop);
        if (r) {
            co_return std::move(r);
        }
        s3_error e = std::move(r.error());
        e.attempts = attempt;
        if (e.endpoint.empty()) {
            e.endpoint = endpoint_text();  // not STS's or IMDS's, set with their failure
        }
        if (!e.retryable) {
            if (attempt > 1) {
                e.message += fmt::format(" (after {} attempts)", attempt);
            }
            log_transport_failure(e);
            co_return e;
        }
        auto delay =
            policy.next_delay(attempt, std::chrono::steady_clock::now() - started, _random, e.throttled, e.retry_after);
        if (!delay) {
            e.message += policy.why_given_up(attempt, e.throttled);
            log_transport_failure(e);
            co_return e;
        }
        ++_stats.retries;
        if (call.on_retry) {
            call.on_retry(e.to_remote_error());
        }
        auto slept = co_await io::sleep(*delay, call.stop);
        if (!slept) {
            e.kind = s3_error_kind::cancelled;
            e.retryable = false;
            co_return e;
        }
    }
}

io::task<s3_result<void>> s3_client::create_bucket(call_options call) {
    request req{"CreateBucket", "PUT", {}, {}, {}, {}, {}};
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    co_return s3_result<void>{};
}

io::task<s3_result<std::string>> s3_client::put_object(std::string key, std::span<const std::byte> body,
                                                       call_options call, body_pacer pacer) {
    request req{"PutObject", "PUT", std::move(key), {}, {}, body, {}};
    req.pacer = std::move(pacer);
    req.body_sent = call.on_body_sent;
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    co_return std::string(r->header("ETag"));
}

io::task<s3_result<size_t>> s3_client::get_object_into(std::string key, uint64_t offset, std::span<std::byte> into,
                                                       call_options call, body_pacer pacer) {
    if (into.empty()) {
        co_return size_t{0};
    }
    request req{"GetObject", "GET", std::move(key), {}, {}, {}, {}};
    req.headers.push_back(http_header{"Range", fmt::format("bytes={}-{}", offset, offset + into.size() - 1)});
    req.response_into = into;
    req.response_pacer = std::move(pacer);
    req.answer_progress = call.on_answer_bytes;
    std::string target = describe_target(_options.bucket, req.key);
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    // The bytes asked for, from where they were asked: a store (or proxy) that ignores Range
    // answers 200 with the object from its start.
    size_t got = r->body_into_size.value_or(r->body.size());
    if (auto wrong = range_answer_error(*r, offset, got)) {
        co_return protocol_failure("GetObject", target, *wrong, endpoint_text());
    }
    if (r->body_into_size) {
        co_return *r->body_into_size;
    }
    // A chunked answer (or an empty one) came through the parser: copy what there is.
    if (r->body.size() > into.size()) {
        s3_error e;
        e.kind = s3_error_kind::protocol;
        e.http_status = r->status;
        e.message = fmt::format("GetObject: {} bytes for a range of {}", r->body.size(), into.size());
        e.transport = true;
        e.endpoint = endpoint_text();
        co_return e;
    }
    std::memcpy(into.data(), r->body.data(), r->body.size());
    co_return r->body.size();
}

io::task<s3_result<std::string>> s3_client::get_object(std::string key, std::optional<byte_range> range,
                                                       call_options call) {
    request req{"GetObject", "GET", std::move(key), {}, {}, {}, {}};
    if (range) {
        std::string value = range->length
                                ? fmt::format("bytes={}-{}", range->offset, range->offset + *range->length - 1)
                                : fmt::format("bytes={}-", range->offset);
        if (range->length && *range->length == 0) {
            co_return std::string();  // an empty range has no HTTP form; nothing to fetch
        }
        req.headers.push_back(http_header{"Range", std::move(value)});
    }
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    co_return std::move(r->body);
}

io::task<s3_result<s3_object_head>> s3_client::head_object(std::string key, call_options call) {
    request req{"HeadObject", "HEAD", std::move(key), {}, {}, {}, {}};
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    s3_object_head head;
    head.size = std::strtoull(std::string(r->header("Content-Length")).c_str(), nullptr, 10);
    head.etag = std::string(r->header("ETag"));
    head.modified_ms = parse_http_date_ms(r->header("Last-Modified"));
    head.content_type = std::string(r->header("Content-Type"));
    co_return head;
}

io::task<s3_result<void>> s3_client::delete_object(std::string key, call_options call) {
    request req{"DeleteObject", "DELETE", std::move(key), {}, {}, {}, {}};
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    co_return s3_result<void>{};
}

io::task<s3_result<s3_list_page>> s3_client::list_objects_v2(std::string prefix, std::string continuation_token,
                                                             int max_keys, call_options call) {
    request req{"ListObjectsV2", "GET", {}, {}, {}, {}, {}};
    req.query.push_back(query_param{"list-type", "2"});
    if (!prefix.empty()) {
        req.query.push_back(query_param{"prefix", prefix});
    }
    if (!continuation_token.empty()) {
        req.query.push_back(query_param{"continuation-token", continuation_token});
    }
    if (max_keys > 0) {
        req.query.push_back(query_param{"max-keys", std::to_string(max_keys)});
    }
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    // A whole ListBucketResult, not a proxy's page or one cut short (a body that ends with the
    // connection can end early): what a listing leaves out, a lease check or a sweep misses.
    if (r->body.find("<ListBucketResult") == std::string::npos ||
        r->body.find("</ListBucketResult>") == std::string::npos) {
        co_return protocol_failure("ListObjectsV2", describe_target(_options.bucket, prefix),
                                   "the answer is not a whole ListBucketResult", endpoint_text());
    }
    s3_list_page page;
    for (auto contents : xml::find_all(r->body, "Contents")) {
        object_info info;
        auto key = xml::find(contents, "Key");
        if (!key) {
            co_return protocol_failure("ListObjectsV2", describe_target(_options.bucket, prefix), "entry without a Key",
                                      endpoint_text());
        }
        info.key = std::move(*key);
        info.size = std::strtoull(xml::find(contents, "Size").value_or("0").c_str(), nullptr, 10);
        // Ages decide whether a lease lapsed or a write is abandoned: never guessed.
        info.modified_ms = parse_iso8601_ms(xml::find(contents, "LastModified").value_or(""));
        if (info.modified_ms == 0) {
            co_return protocol_failure("ListObjectsV2", describe_target(_options.bucket, prefix),
                                       fmt::format("entry {} without a readable LastModified", info.key),
                                       endpoint_text());
        }
        page.objects.push_back(std::move(info));
    }
    page.truncated = xml::find(r->body, "IsTruncated").value_or("false") == "true";
    page.next_continuation_token = xml::find(r->body, "NextContinuationToken").value_or("");
    if (page.truncated && page.next_continuation_token.empty()) {
        co_return protocol_failure("ListObjectsV2", describe_target(_options.bucket, prefix),
                                   "truncated listing without a continuation token", endpoint_text());
    }
    co_return page;
}

io::task<s3_result<std::vector<object_info>>> s3_client::list_all(std::string prefix, int page_size,
                                                                  call_options call) {
    std::vector<object_info> all;
    std::string token;
    for (;;) {
        auto page = co_await list_objects_v2(prefix, token, page_size, call);
        if (!page) {
            co_return page.error();
        }
        std::move(page->objects.begin(), page->objects.end(), std::back_inserter(all));
        if (!page->truncated) {
            break;
        }
        if (page->next_continuation_token == token) {
            co_return protocol_failure("ListObjectsV2", describe_target(_options.bucket, prefix),
                                       "the continuation token does not advance", endpoint_text());
        }
        token = std::move(page->next_continuation_token);
    }
    co_return all;
}

io::task<s3_result<void>> s3_client::delete_objects(std::vector<std::string> keys, call_options call) {
    constexpr size_t batch = 1000;  // S3's limit per DeleteObjects request
    for (size_t from = 0; from < keys.size(); from += batch) {
        std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
        for (size_t i = from; i < std::min(keys.size(), from + batch); ++i) {
            body += "<Object><Key>" + xml::escape(keys[i]) + "</Key></Object>";
        }
        body += "</Delete>";
        request req{"DeleteObjects", "POST", {}, {}, {}, as_bytes(body), {}};
        req.query.push_back(query_param{"delete", ""});
        req.headers.push_back(http_header{"Content-MD5", content_md5(body)});
        req.headers.push_back(http_header{"Content-Type", "application/xml"});
        auto r = co_await execute(std::move(req), call);
        if (!r) {
            co_return r.error();
        }
        auto failures = xml::find_all(r->body, "Error");
        if (!failures.empty()) {
            s3_error e;
            e.kind = s3_error_kind::http;
            e.http_status = r->status;
            e.code = xml::find(failures.front(), "Code").value_or("");
            e.message = fmt::format("DeleteObjects {}: {} of {} keys not deleted; first: {}: {}",
                                    describe_target(_options.bucket, xml::find(failures.front(), "Key").value_or("")),
                                    failures.size(), keys.size(), e.code,
                                    xml::find(failures.front(), "Message").value_or(""));
            co_return e;
        }
    }
    co_return s3_result<void>{};
}

io::task<s3_result<std::string>> s3_client::create_multipart_upload(std::string key, call_options call) {
    std::string target = describe_target(_options.bucket, key);
    request req{"CreateMultipartUpload", "POST", std::move(key), {}, {}, {}, {}};
    req.query.push_back(query_param{"uploads", ""});
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    auto id = xml::find(r->body, "UploadId");
    if (!id || id->empty()) {
        co_return protocol_failure("CreateMultipartUpload", target, "no UploadId in the response", endpoint_text());
    }
    co_return std::move(*id);
}

io::task<s3_result<std::string>> s3_client::upload_part(std::string key, std::string upload_id, int part_number,
                                                        std::span<const std::byte> body, call_options call,
                                                        body_pacer pacer) {
    request req{"UploadPart", "PUT", std::move(key), {}, {}, body, {}};
    req.pacer = std::move(pacer);
    req.body_sent = call.on_body_sent;
    req.query.push_back(query_param{"partNumber", std::to_string(part_number)});
    req.query.push_back(query_param{"uploadId", std::move(upload_id)});
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    co_return std::string(r->header("ETag"));
}

io::task<s3_result<std::string>> s3_client::complete_multipart_upload(std::string key, std::string upload_id,
                                                                      std::vector<s3_part> parts,
                                                                      call_options call) {
    std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload>";
    for (const auto& part : parts) {
        body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", part.number,
                            xml::escape(part.etag));
    }
    body += "</CompleteMultipartUpload>";
    request req{"CompleteMultipartUpload", "POST", std::move(key), {}, {}, as_bytes(body), {}};
    req.query.push_back(query_param{"uploadId", std::move(upload_id)});
    req.headers.push_back(http_header{"Content-Type", "application/xml"});
    std::string completed_key = req.key;
    auto r = co_await execute(std::move(req), call);
    if (!r && r.error().http_status == 404) {
        // An earlier send may have completed it and lost its answer (a reset or a timeout, then
        // a retry, or the client's own resend on a reused connection), or an earlier run before
        // a crash: the upload is gone because it became the object. Taken as done only when the
        // object is the one these parts make (its ETag, else its size and part count).
        uint64_t total = 0;
        for (const auto& part : parts) {
            total += part.size;
        }
        std::string expected = multipart_etag(parts);
        std::string suffix = fmt::format("-{}\"", parts.size());
        auto head = co_await head_object(completed_key, call);
        if (head && head->size == total &&
            (expected.empty() ? head->etag.ends_with(suffix) : head->etag == expected)) {
            TV_LOG_INFO("s3: CompleteMultipartUpload of {} answered {}: an earlier send completed it", completed_key,
                        r.error().code);
            co_return head->etag;
        }
    }
    if (!r) {
        co_return r.error();
    }
    co_return xml::find(r->body, "ETag").value_or("");
}

io::task<s3_result<void>> s3_client::abort_multipart_upload(std::string key, std::string upload_id,
                                                            call_options call) {
    request req{"AbortMultipartUpload", "DELETE", std::move(key), {}, {}, {}, {}};
    req.query.push_back(query_param{"uploadId", std::move(upload_id)});
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    co_return s3_result<void>{};
}

io::task<s3_result<std::vector<s3_part>>> s3_client::list_parts(std::string key, std::string upload_id,
                                                                call_options call) {
    std::vector<s3_part> parts;
    std::string marker;
    for (;;) {
        request req{"ListParts", "GET", key, {}, {}, {}, {}};
        req.query.push_back(query_param{"uploadId", upload_id});
        if (!marker.empty()) {
            req.query.push_back(query_param{"part-number-marker", marker});
        }
        auto r = co_await execute(std::move(req), call);
        if (!r) {
            co_return r.error();
        }
        for (auto block : xml::find_all(r->body, "Part")) {
            s3_part part;
            part.number = std::atoi(xml::find(block, "PartNumber").value_or("0").c_str());
            part.etag = xml::find(block, "ETag").value_or("");
            part.size = std::strtoull(xml::find(block, "Size").value_or("0").c_str(), nullptr, 10);
            parts.push_back(std::move(part));
        }
        bool truncated = xml::find(r->body, "IsTruncated").value_or("false") == "true";
        std::string next = xml::find(r->body, "NextPartNumberMarker").value_or("");
        if (truncated && !next.empty() && next == marker) {
            co_return protocol_failure("ListParts", describe_target(_options.bucket, key),
                                       "the part number marker does not advance", endpoint_text());
        }
        marker = std::move(next);
        if (!truncated || marker.empty()) {
            break;
        }
    }
    co_return parts;
}

io::task<s3_result<s3_uploads_page>> s3_client::list_multipart_uploads(std::string prefix, std::string key_marker,
                                                                      std::string upload_id_marker, int max_uploads,
                                                                      call_options call) {
    request req{"ListMultipartUploads", "GET", {}, {}, {}, {}, {}};
    req.query.push_back(query_param{"uploads", ""});
    if (!prefix.empty()) {
        req.query.push_back(query_param{"prefix", prefix});
    }
    if (!key_marker.empty()) {
        req.query.push_back(query_param{"key-marker", key_marker});
    }
    if (!upload_id_marker.empty()) {
        req.query.push_back(query_param{"upload-id-marker", upload_id_marker});
    }
    if (max_uploads > 0) {
        req.query.push_back(query_param{"max-uploads", std::to_string(max_uploads)});
    }
    auto r = co_await execute(std::move(req), call);
    if (!r) {
        co_return r.error();
    }
    s3_uploads_page page;
    for (auto block : xml::find_all(r->body, "Upload")) {
        auto key = xml::find(block, "Key");
        auto id = xml::find(block, "UploadId");
        if (!key || !id || id->empty()) {
            co_return protocol_failure("ListMultipartUploads", describe_target(_options.bucket, prefix),
                                       "upload without a Key or UploadId", endpoint_text());
        }
        page.uploads.push_back(s3_open_upload{std::move(*key), std::move(*id),
                                                   parse_iso8601_ms(xml::find(block, "Initiated").value_or(""))});
    }
    page.truncated = xml::find(r->body, "IsTruncated").value_or("false") == "true";
    page.next_key_marker = xml::find(r->body, "NextKeyMarker").value_or("");
    page.next_upload_id_marker = xml::find(r->body, "NextUploadIdMarker").value_or("");
    if (page.truncated && page.next_key_marker.empty()) {
        co_return protocol_failure("ListMultipartUploads", describe_target(_options.bucket, prefix),
                                   "truncated listing without a NextKeyMarker", endpoint_text());
    }
    co_return page;
}

io::task<s3_result<std::vector<s3_open_upload>>> s3_client::list_all_multipart_uploads(std::string prefix,
                                                                                             int page_size,
                                                                                             call_options call) {
    std::vector<s3_open_upload> all;
    std::string key_marker;
    std::string id_marker;
    for (;;) {
        auto page = co_await list_multipart_uploads(prefix, key_marker, id_marker, page_size, call);
        if (!page) {
            co_return page.error();
        }
        std::move(page->uploads.begin(), page->uploads.end(), std::back_inserter(all));
        if (!page->truncated) {
            break;
        }
        if (page->next_key_marker == key_marker && page->next_upload_id_marker == id_marker) {
            // A page that does not move on would be asked for forever.
            co_return protocol_failure("ListMultipartUploads", describe_target(_options.bucket, prefix),
                                       "truncated listing whose markers do not advance", endpoint_text());
        }
        key_marker = std::move(page->next_key_marker);
        id_marker = std::move(page->next_upload_id_marker);
    }
    co_return all;
}

}  // namespace tv::remote
