// SPDX-License-Identifier: Apache-2.0
// A repository's location and PROPERTIES turned into one validated configuration: the scheme
// decides the store (a local directory or an S3-compatible one), and the property names users
// paste from StarRocks (aws.s3.*, fs.s3a.*) or Doris (AWS_*, s3.*) map to one canonical set.
#pragma once

#include "remote/remote_error.hh"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tv::remote {

/// PROPERTIES as written: name, value, in order (the same shape as storage::properties).
using property_list = std::vector<std::pair<std::string, std::string>>;

enum class store_kind { local, s3 };

/// Where an S3 store's credentials come from.
enum class credential_source {
    environment,       // no keys given: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY at request time
    static_keys,       // access key + secret key (+ session token)
    instance_profile,  // IMDSv2 on the instance
};

/// Payload hashing of signed requests: the SHA-256 of the body, or UNSIGNED-PAYLOAD.
enum class payload_signing { signed_payload, unsigned_payload };

/// The property that turns TLS certificate and host-name verification off (default "true").
/// Not a StarRocks or Doris name: turning verification off must be spelled out, and it logs
/// a warning every time a repository is opened with it.
inline constexpr std::string_view tls_verify_property = "aws.s3.tls_verify";

struct repository_config {
    store_kind kind = store_kind::local;
    /// The location as given, minus trailing '/' (StarRocks strips them too).
    std::string location;

    // ---- local
    std::string local_path;  // absolute directory

    // ---- s3 (s3://, s3a://, s3n://, gs://)
    std::string scheme;  // "s3", "s3a", "s3n" or "gs"
    std::string bucket;
    std::string prefix;         // without leading or trailing '/'; may be empty
    std::string endpoint_host;  // host[:port]; AWS's regional endpoint when none is given
    bool endpoint_given = false;
    /// The endpoint as the user wrote it (aws.s3.endpoint's value), or the default one's URL:
    /// what "could not reach endpoint E" names, so messages say nothing the user did not give.
    std::string endpoint_text;
    bool use_https = true;
    bool path_style = false;  // default: true when an endpoint (or gs://) is given
    std::string region;
    credential_source credentials = credential_source::environment;
    std::string access_key;
    std::string secret_key;
    std::string session_token;
    std::string iam_role_arn;  // assume this role with the base credentials
    std::string external_id;
    /// Where AssumeRole goes, scheme://host[:port]: aws.s3.sts_endpoint, else the repository's
    /// own endpoint when one is given (MinIO and Ceph RGW serve STS there), else
    /// https://sts.<region>.amazonaws.com. Empty without iam_role_arn.
    std::string sts_endpoint;
    std::string sts_endpoint_text;  // as written (aws.s3.sts_endpoint), else the derived URL
    /// http://host[:port] of the instance metadata service (aws.s3.imds_endpoint); empty: the
    /// server's AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254.
    std::string imds_endpoint;
    std::string imds_endpoint_text;  // as written (aws.s3.imds_endpoint); empty: the default
    payload_signing signing = payload_signing::unsigned_payload;  // signed over plain HTTP
    std::string ca_file;
    bool verify_tls = true;

    /// One line for messages, logs and SHOW: every setting, secret values as "******".
    std::string redacted() const;
};

/// Parses and validates. Errors (remote_errc::bad_config unless noted) name the property or
/// scheme at fault and never print a secret value:
///   - unknown property: "Unknown repository property 'x'; ..."
///   - one setting under two names with different values: "Properties 'a' and 'b' both set ..."
///   - an access key without a secret key (or the reverse), a session token without keys,
///     use_instance_profile with static keys, iam_role_arn with neither keys nor an instance
///     profile, external_id or sts_endpoint without iam_role_arn, imds_endpoint without the
///     instance profile, bad booleans, endpoints or payload_signing values
///   - hdfs:// and other schemes, relative paths: remote_errc::not_supported / bad_config,
///     naming the supported locations
///   - any property on a local location (none apply)
///   - a control character (0x00-0x1F, 0x7F) in the location or in any property's name or value:
///     they reach HTTP headers, URLs and paths (CR/LF would smuggle a second request)
remote_result<repository_config> parse_repository_config(std::string_view location, const property_list& props);

/// Whether a property's value is a secret (keys, tokens, external ids): shown as "******".
bool is_secret_property(std::string_view name);

/// The properties with secret values replaced by "******", for SHOW and messages.
property_list redact_properties(const property_list& props);

/// "file:///abs/path, an absolute path, s3://, s3a://, s3n:// or gs://": for error messages.
std::string_view supported_locations();

}  // namespace tv::remote
