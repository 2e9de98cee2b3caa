// SPDX-License-Identifier: Apache-2.0
// Where an S3 client's keys come from: fixed keys, the process environment, the EC2 instance
// profile (IMDSv2), or an STS AssumeRole signed with another source's keys. Temporary
// credentials are cached and fetched again a while before they expire.
#pragma once

#include "io/task.hh"
#include "remote/http_client.hh"
#include "remote/remote_error.hh"
#include "remote/sigv4.hh"

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tv::remote {

struct repository_config;

/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; nullopt unless both keys are set.
std::optional<aws_credentials> credentials_from_environment();

/// The IMDS endpoint used when a repository names none: AWS_EC2_METADATA_SERVICE_ENDPOINT (as
/// the AWS SDKs read it) when set, else http://169.254.169.254.
std::string default_imds_endpoint();

/// Temporary credentials and when they stop working.
struct timed_credentials {
    aws_credentials credentials;
    std::chrono::system_clock::time_point expiration;
};

/// Asked by s3_client before it signs each request attempt. Errors name the source and never
/// carry a secret; their codes: bad_config (nothing usable is configured), permission_denied
/// (the source answered and refused), not_supported, io_error (the source could not be reached
/// or answered nonsense: worth another attempt). A provider belongs to one event loop, like
/// s3_client, because the fetching ones own an http_client.
class credentials_provider {
public:
    virtual ~credentials_provider() = default;
    /// Credentials to sign a request with now.
    virtual io::task<remote_result<aws_credentials>> get() = 0;
    /// "environment", "instance profile (IMDS at http://169.254.169.254)": no secrets.
    virtual std::string describe() const = 0;
};

class static_credentials_provider final : public credentials_provider {
public:
    explicit static_credentials_provider(aws_credentials credentials) : _credentials(std::move(credentials)) {}
    io::task<remote_result<aws_credentials>> get() override;
    std::string describe() const override { return "static keys"; }

private:
    aws_credentials _credentials;
};

/// Reads the environment at every request, so keys rotated into it are picked up.
class environment_credentials_provider final : public credentials_provider {
public:
    io::task<remote_result<aws_credentials>> get() override;
    std::string describe() const override { return "environment"; }
};

/// The sources that hand out temporary credentials. Cached credentials are used until less
/// than min(refresh_ahead, half their lifetime) is left; then the next caller fetches new ones
/// and every caller that arrives meanwhile waits for that one fetch. A failed fetch while the
/// cached credentials are still valid keeps them (and tries again after retry_pause); without
/// valid credentials, each call tries again.
class refreshing_credentials_provider : public credentials_provider {
public:
    io::task<remote_result<aws_credentials>> get() final;
    /// Fetches attempted so far (tests prove caching and shared refreshes with it).
    uint64_t fetches() const noexcept { return _fetches; }

protected:
    explicit refreshing_credentials_provider(std::chrono::seconds refresh_ahead);
    virtual io::task<remote_result<timed_credentials>> fetch() = 0;

private:
    /// After a failed fetch, how long still-valid credentials are used before the next try.
    static constexpr std::chrono::seconds retry_pause{10};

    struct refresh_waiter;
    bool fresh(std::chrono::system_clock::time_point now) const;
    io::task<void> refresh();

    std::chrono::seconds _refresh_ahead;
    std::optional<timed_credentials> _cached;
    std::chrono::system_clock::time_point _fetched_at;
    std::chrono::system_clock::time_point _next_try;
    std::optional<remote_error> _last_error;
    bool _refreshing = false;
    std::vector<std::coroutine_handle<>> _waiters;
    uint64_t _fetches = 0;
};

/// "http://host[:port]" or "https://...", IPv6 hosts in brackets.
struct service_endpoint {
    bool https = false;
    std::string host;  ///< without brackets: what http_client connects to
    uint16_t port = 80;
    std::string url;  ///< scheme://host[:port], for messages

    /// The Host header: brackets kept, the port only when it is not the scheme's default.
    std::string host_header() const;
};

/// Parses an endpoint URL; `what` names it in errors ("the IMDS endpoint"). A path, query or
/// missing scheme is bad_config.
remote_result<service_endpoint> parse_service_endpoint(std::string_view url, std::string_view what);

/// A call to an AWS query API (STS, IAM): POST / with the form as body, signed by `signer` with
/// `credentials`. The body points into `form`, which must outlive the request.
http_client_request signed_form_post(sigv4_signer& signer, std::string host_header, const std::string& form,
                                     const aws_credentials& credentials);

/// "could not reach endpoint E: connection failed": all a user learns of a credentials service
/// that did not answer as one (refused, reset, timed out, TLS, or not its protocol), so that an
/// endpoint property cannot probe what listens where. The log gets `detail`.
remote_error unreachable_endpoint(std::string_view endpoint, std::string_view detail, bool retryable);

struct imds_options {
    /// Empty: default_imds_endpoint().
    std::string endpoint;
    /// The endpoint as the user gave it, named when it cannot be reached; empty: `endpoint`.
    std::string endpoint_text;
    /// For connecting and for each request: IMDS is on the host, so it answers fast or not at all.
    std::chrono::milliseconds timeout{1'000};
    std::chrono::seconds token_ttl{21'600};
    std::chrono::seconds refresh_ahead{300};
};

/// The instance profile through IMDSv2: PUT /latest/api/token, then the role name from
/// /latest/meta-data/iam/security-credentials/, then that role's credentials. Plain HTTP (IMDS
/// has no TLS). Errors start with "instance profile credentials: "; until IMDS has given a
/// session token, every failure is unreachable_endpoint().
class imds_credentials_provider final : public refreshing_credentials_provider {
public:
    static remote_result<std::shared_ptr<imds_credentials_provider>> create(imds_options options);
    std::string describe() const override;

    /// Use create(); public for make_shared.
    imds_credentials_provider(imds_options options, service_endpoint endpoint);

protected:
    io::task<remote_result<timed_credentials>> fetch() override;

private:
    remote_error failure(remote_errc code, std::string_view what) const;
    remote_error failure(remote_error unreachable) const;

    imds_options _options;
    service_endpoint _endpoint;
    http_client _http;
};

struct assume_role_options {
    std::string role_arn;
    std::string external_id;   ///< sent when not empty; a secret, never in messages
    std::string session_name;  ///< empty: "tabletvault-<unix seconds>"
    std::chrono::seconds duration{3'600};
    /// STS: "https://sts.us-east-1.amazonaws.com", or any http(s) URL that speaks AssumeRole.
    std::string endpoint;
    /// The endpoint as the user gave it, named when it cannot be reached; empty: `endpoint`.
    std::string endpoint_text;
    std::string region = "us-east-1";  ///< the signing region
    std::string ca_file;     ///< HTTPS endpoints: PEM CAs to trust; empty: the system store
    bool verify_tls = true;  ///< HTTPS endpoints: false skips certificate checks (the caller warns)
    std::chrono::seconds refresh_ahead{300};
    http_client_options http{.connect_timeout = std::chrono::milliseconds(5'000),
                             .request_timeout = std::chrono::milliseconds(15'000)};
};

/// STS AssumeRole, signed (SigV4, service "sts") with the base provider's credentials. Errors
/// start with "assume role <arn>: ". STS's own error documents (<Error><Code>) are quoted,
/// capped; anything else is unreachable_endpoint().
class assume_role_credentials_provider final : public refreshing_credentials_provider {
public:
    static remote_result<std::shared_ptr<assume_role_credentials_provider>> create(
        assume_role_options options, std::shared_ptr<credentials_provider> base);
    std::string describe() const override;

    /// Use create(); public for make_shared.
    assume_role_credentials_provider(assume_role_options options, service_endpoint endpoint,
                                     std::shared_ptr<credentials_provider> base);

protected:
    io::task<remote_result<timed_credentials>> fetch() override;

private:
    assume_role_options _options;
    service_endpoint _endpoint;
    std::shared_ptr<credentials_provider> _base;
    sigv4_signer _signer;
    http_client _http;
};

/// The provider a repository's configuration asks for: static keys, the environment or the
/// instance profile, with AssumeRole on top when iam_role_arn is set.
remote_result<std::shared_ptr<credentials_provider>> make_credentials_provider(const repository_config& config);

}  // namespace tv::remote
