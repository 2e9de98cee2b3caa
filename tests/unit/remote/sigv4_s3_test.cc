// SPDX-License-Identifier: Apache-2.0
// What the AWS suite does not cover: S3's documented signing examples (known answers), S3's URI
// rules, UNSIGNED-PAYLOAD, session tokens, re-signing, the signing-key cache and the building blocks.
#include "remote/sigv4.hh"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace rm = tv::remote;

namespace {

// The example inputs of the S3 API reference, "Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk" (sig-v4-header-based-auth).
const rm::aws_credentials s3_doc_credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* s3_doc_host = "examplebucket.s3.amazonaws.com";

std::chrono::system_clock::time_point s3_doc_time() {
    using namespace std::chrono;
    return sys_days{year{2013} / 5 / 24};
}

rm::sigv4_signer s3_signer() {
    return rm::sigv4_signer("us-east-1", "s3", rm::sigv4_options::s3());
}

rm::sigv4_request get_request(std::string path, std::vector<rm::query_param> query = {}) {
    rm::sigv4_request r;
    r.method = "GET";
    r.path = std::move(path);
    r.query = std::move(query);
    r.headers = {{"Host", s3_doc_host}};
    return r;
}

// Line n (0-based) of a canonical request.
std::string line_of(const std::string& text, int n) {
    std::size_t start = 0;
    for (int i = 0; i < n; ++i) {
        start = text.find('\n', start) + 1;
    }
    return text.substr(start, text.find('\n', start) - start);
}

}  // namespace

TEST(sigv4_s3_examples, get_object_with_range) {
    auto r = get_request("/test.txt");
    r.headers.push_back({"Range", "bytes=0-9"});
    auto signer = s3_signer();
    auto sig = signer.sign(r, s3_doc_credentials, s3_doc_time());
    EXPECT_EQ(sig.canonical_request,
              "GET\n"
              "/test.txt\n"
              "\n"
              "host:examplebucket.s3.amazonaws.com\n"
              "range:bytes=0-9\n"
              "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
              "x-amz-date:20130524T000000Z\n"
              "\n"
              "host;range;x-amz-content-sha256;x-amz-date\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sig.string_to_sign,
              "AWS4-HMAC-SHA256\n"
              "20130524T000000Z\n"
              "20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    EXPECT_EQ(sig.authorization,
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
              "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    EXPECT_EQ(sig.headers, (std::vector<rm::http_header>{
                               {"X-Amz-Date", "20130524T000000Z"},
                               {"X-Amz-Content-Sha256", std::string(rm::empty_payload_sha256)},
                               {"Authorization", sig.authorization},
                           }));
}

// The key "test$file.text" goes on the wire encoded once; the Date header is signed as given.
TEST(sigv4_s3_examples, put_object_with_storage_class) {
    rm::sigv4_request r;
    r.method = "PUT";
    r.path = rm::uri_encode_path("/test$file.text");
    EXPECT_EQ(r.path, "/test%24file.text");
    r.headers = {{"Host", s3_doc_host},
                 {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    r.payload_hash = rm::sha256_hex("Welcome to Amazon S3.");
    EXPECT_EQ(r.payload_hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    auto signer = s3_signer();
    auto sig = signer.sign(r, s3_doc_credentials, s3_doc_time());
    EXPECT_EQ(sig.canonical_request,
              "PUT\n"
              "/test%24file.text\n"
              "\n"
              "date:Fri, 24 May 2013 00:00:00 GMT\n"
              "host:examplebucket.s3.amazonaws.com\n"
              "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
              "x-amz-date:20130524T000000Z\n"
              "x-amz-storage-class:REDUCED_REDUNDANCY\n"
              "\n"
              "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
              "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    EXPECT_EQ(sig.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(sigv4_s3_examples, get_bucket_lifecycle_signs_a_key_without_value) {
    auto signer = s3_signer();
    auto sig = signer.sign(get_request("/", {{"lifecycle", ""}}), s3_doc_credentials, s3_doc_time());
    EXPECT_EQ(line_of(sig.canonical_request, 2), "lifecycle=");
    EXPECT_EQ(sig.signed_headers, "host;x-amz-content-sha256;x-amz-date");
    EXPECT_EQ(sig.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(sigv4_s3_examples, list_objects_sorts_the_query) {
    auto signer = s3_signer();
    auto sig = signer.sign(get_request("/", {{"prefix", "J"}, {"max-keys", "2"}}), s3_doc_credentials, s3_doc_time());
    EXPECT_EQ(line_of(sig.canonical_request, 2), "max-keys=2&prefix=J");
    EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// AWS's key-derivation example (IAM User Guide, "Examples of how to derive a signing key").
TEST(sigv4_building_blocks, derives_the_documented_signing_key) {
    auto key = rm::derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
    EXPECT_EQ(rm::hex_lower(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

TEST(sigv4_building_blocks, hmac_and_sha256_known_answers) {
    // RFC 4231 test case 2.
    std::string_view key = "Jefe";
    auto mac = rm::hmac_sha256({reinterpret_cast<const unsigned char*>(key.data()), key.size()},
                               "what do ya want for nothing?");
    EXPECT_EQ(rm::hex_lower(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(rm::sha256_hex(""), rm::empty_payload_sha256);
    EXPECT_EQ(rm::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    rm::sha256_hasher h;
    h.update("Welcome ");
    h.update(std::as_bytes(std::span{std::string_view("to Amazon S3.")}));
    EXPECT_EQ(h.finish_hex(), "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    EXPECT_EQ(h.finish_hex(), rm::empty_payload_sha256) << "a finished hasher starts over";
}

// S3: the path as sent, encoded exactly once and never normalised; the generic rules normalise
// and encode again.
TEST(sigv4_s3_uri, encoded_once_and_not_normalised) {
    EXPECT_EQ(rm::canonical_uri("/a//b/../c", rm::uri_rules::s3), "/a//b/../c");
    EXPECT_EQ(rm::canonical_uri("/a//b/./c/", rm::uri_rules::s3), "/a//b/./c/");
    EXPECT_EQ(rm::canonical_uri("/a//b/../c", rm::uri_rules::generic), "/a/c");

    const std::string raw = "/examplebucket/my dir/\xC3\xBC+=*~.txt";
    const std::string wire = rm::uri_encode_path(raw);
    EXPECT_EQ(wire, "/examplebucket/my%20dir/%C3%BC%2B%3D%2A~.txt");
    EXPECT_EQ(rm::canonical_uri(wire, rm::uri_rules::s3), wire) << "already encoded: kept as sent";
    EXPECT_EQ(rm::canonical_uri(raw, rm::uri_rules::s3), wire) << "S3 recodes what it receives";
    EXPECT_EQ(rm::canonical_uri(wire, rm::uri_rules::generic),
              "/examplebucket/my%2520dir/%25C3%25BC%252B%253D%252A~.txt");

    // A '%' in a key is data: encoded on the wire, and the signature agrees with the wire.
    EXPECT_EQ(rm::uri_encode_path("/b/100%.txt"), "/b/100%25.txt");
    EXPECT_EQ(rm::canonical_uri("/b/100%25.txt", rm::uri_rules::s3), "/b/100%25.txt");
    EXPECT_EQ(rm::canonical_uri("", rm::uri_rules::s3), "/");
    EXPECT_EQ(rm::canonical_uri("", rm::uri_rules::generic), "/");

    auto signer = s3_signer();
    auto r = get_request(rm::uri_encode_path("/examplebucket/a b//../c+d=e"));
    auto sig = signer.sign(r, s3_doc_credentials, s3_doc_time());
    EXPECT_EQ(line_of(sig.canonical_request, 1), "/examplebucket/a%20b//../c%2Bd%3De");
}

TEST(sigv4_s3_uri, query_is_rfc3986_encoded_and_sorted_after_encoding) {
    std::vector<rm::query_param> q = {
        {"prefix", "a b/c"}, {"list-type", "2"}, {"uploads", ""}, {"continuation-token", "1/2+3="}};
    EXPECT_EQ(rm::canonical_query_string(q), "continuation-token=1%2F2%2B3%3D&list-type=2&prefix=a%20b%2Fc&uploads=");
    // '~' (0x7E) sorts before 0xC3 raw, after "%C3" encoded: the server sorts encoded names.
    std::vector<rm::query_param> order = {{"~a", "1"}, {"\xC3\xA9", "2"}, {"k", "2"}, {"k", "10"}};
    EXPECT_EQ(rm::canonical_query_string(order), "%C3%A9=2&k=10&k=2&~a=1");
    EXPECT_EQ(rm::canonical_query_string({}), "");
}

TEST(sigv4_s3, unsigned_payload_is_signed_as_the_literal) {
    rm::sigv4_request r;
    r.method = "PUT";
    r.path = "/examplebucket/big.dat";
    r.headers = {{"Host", "127.0.0.1:7480"}, {"Content-Length", "1048576"}};
    r.payload_hash = std::string(rm::unsigned_payload);
    auto signer = s3_signer();
    auto sig = signer.sign(r, s3_doc_credentials, s3_doc_time());
    EXPECT_EQ(sig.canonical_request,
              "PUT\n"
              "/examplebucket/big.dat\n"
              "\n"
              "content-length:1048576\n"
              "host:127.0.0.1:7480\n"
              "x-amz-content-sha256:UNSIGNED-PAYLOAD\n"
              "x-amz-date:20130524T000000Z\n"
              "\n"
              "content-length;host;x-amz-content-sha256;x-amz-date\n"
              "UNSIGNED-PAYLOAD");
    EXPECT_EQ(sig.headers.at(1), (rm::http_header{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}));
    EXPECT_EQ(line_of(sig.string_to_sign, 3), rm::sha256_hex(sig.canonical_request));
    EXPECT_EQ(sig.signature, rm::hex_lower(rm::hmac_sha256(
                                 rm::derive_signing_key(s3_doc_credentials.secret_key, "20130524", "us-east-1", "s3"),
                                 sig.string_to_sign)));
}

TEST(sigv4_s3, session_token_is_sent_and_signed) {
    rm::aws_credentials creds = s3_doc_credentials;
    creds.session_token = "FwoGZXIvYXdzEJr//token+with/and=";
    auto signer = s3_signer();
    auto sig = signer.sign(get_request("/examplebucket/k"), creds, s3_doc_time());
    EXPECT_EQ(sig.canonical_request,
              "GET\n"
              "/examplebucket/k\n"
              "\n"
              "host:examplebucket.s3.amazonaws.com\n"
              "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
              "x-amz-date:20130524T000000Z\n"
              "x-amz-security-token:FwoGZXIvYXdzEJr//token+with/and=\n"
              "\n"
              "host;x-amz-content-sha256;x-amz-date;x-amz-security-token\n"
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ASSERT_EQ(sig.headers.size(), 4u);
    EXPECT_EQ(sig.headers[2], (rm::http_header{"X-Amz-Security-Token", creds.session_token}));
    EXPECT_EQ(sig.headers[3].name, "Authorization");

    // Added after signing when a service wants it so: sent, not signed.
    rm::sigv4_options after = rm::sigv4_options::s3();
    after.sign_session_token = false;
    rm::sigv4_signer late("us-east-1", "s3", after);
    auto unsigned_token = late.sign(get_request("/examplebucket/k"), creds, s3_doc_time());
    EXPECT_EQ(unsigned_token.signed_headers, "host;x-amz-content-sha256;x-amz-date");
    EXPECT_EQ(unsigned_token.headers[2], (rm::http_header{"X-Amz-Security-Token", creds.session_token}));
}

// A retry signs the request it already signed: the old signature's headers must not leak in.
TEST(sigv4_s3, re_signing_replaces_the_signers_own_headers) {
    rm::aws_credentials creds = s3_doc_credentials;
    creds.session_token = "new-token";
    auto signer = s3_signer();
    auto clean = signer.sign(get_request("/b/k"), creds, s3_doc_time());
    auto stale = get_request("/b/k");
    stale.headers.push_back({"Authorization", "AWS4-HMAC-SHA256 Credential=old"});
    stale.headers.push_back({"X-Amz-Date", "20000101T000000Z"});
    stale.headers.push_back({"x-amz-content-sha256", "deadbeef"});
    stale.headers.push_back({"X-Amz-Security-Token", "old-token"});
    auto again = signer.sign(stale, creds, s3_doc_time());
    EXPECT_EQ(again.canonical_request, clean.canonical_request);
    EXPECT_EQ(again.authorization, clean.authorization);
}

TEST(sigv4_s3, header_values_are_trimmed_collapsed_folded_and_joined) {
    EXPECT_EQ(rm::canonical_header_value("  a \t  b  "), "a b");
    EXPECT_EQ(rm::canonical_header_value("\"a   b\""), "\"a b\"");
    EXPECT_EQ(rm::canonical_header_value("x\r\n  y\n\tz "), "x,y,z");
    EXPECT_EQ(rm::canonical_header_value(""), "");

    auto r = get_request("/b/k");
    r.headers.push_back({"X-Amz-Meta-Tag", " one "});
    r.headers.push_back({"x-amz-meta-TAG", "two  three"});
    r.headers.push_back({" X-Amz-Meta-Empty", ""});
    auto signer = s3_signer();
    auto sig = signer.sign(r, s3_doc_credentials, s3_doc_time());
    EXPECT_NE(sig.canonical_request.find("\nx-amz-meta-empty:\nx-amz-meta-tag:one,two three\n"), std::string::npos)
        << sig.canonical_request;
    EXPECT_EQ(sig.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-meta-empty;x-amz-meta-tag");
}

TEST(sigv4_s3, amz_date_is_utc_whole_seconds) {
    using namespace std::chrono;
    auto t = sys_days{year{2024} / 2 / 29} + hours{23} + minutes{59} + seconds{59} + milliseconds{999};
    EXPECT_EQ(rm::format_amz_date(t), "20240229T235959Z");
    EXPECT_EQ(rm::format_amz_date(sys_days{year{2013} / 5 / 24}), "20130524T000000Z");
}

TEST(sigv4_s3, requests_that_cannot_be_signed_are_refused) {
    auto signer = s3_signer();
    rm::sigv4_request no_host;
    no_host.method = "GET";
    EXPECT_THROW(signer.sign(no_host, s3_doc_credentials, s3_doc_time()), std::invalid_argument);
    auto no_hash = get_request("/b/k");
    no_hash.payload_hash.clear();
    EXPECT_THROW(signer.sign(no_hash, s3_doc_credentials, s3_doc_time()), std::invalid_argument);
}

// One derivation per (secret, date, region, service), reused across requests; new credentials,
// a new day or another scope derive again; the oldest entry goes when the cache is full.
TEST(sigv4_key_cache, derives_once_per_scope) {
    rm::sigv4_key_cache cache;
    rm::aws_credentials a = s3_doc_credentials;
    auto k1 = cache.get(a, "20130524", "us-east-1", "s3");
    EXPECT_EQ(k1, rm::derive_signing_key(a.secret_key, "20130524", "us-east-1", "s3"));
    EXPECT_EQ(cache.get(a, "20130524", "us-east-1", "s3"), k1);
    EXPECT_EQ(cache.derivations(), 1u);

    cache.get(a, "20130525", "us-east-1", "s3");
    cache.get(a, "20130525", "eu-west-1", "s3");
    rm::aws_credentials rotated = a;
    rotated.secret_key = "another-secret";
    auto k4 = cache.get(rotated, "20130525", "eu-west-1", "s3");
    EXPECT_NE(k4, cache.get(a, "20130525", "eu-west-1", "s3"));
    EXPECT_EQ(cache.derivations(), 4u);

    cache.get(a, "20130524", "us-east-1", "s3");  // touch the first entry: now most recent
    cache.get(a, "20130526", "us-east-1", "s3");  // fifth scope: evicts the least recently used
    EXPECT_EQ(cache.derivations(), 5u);
    cache.get(a, "20130524", "us-east-1", "s3");
    EXPECT_EQ(cache.derivations(), 5u) << "the touched entry survived";
    cache.get(a, "20130525", "us-east-1", "s3");
    EXPECT_EQ(cache.derivations(), 6u) << "the least recently used entry was evicted";

    auto signer = s3_signer();
    for (int i = 0; i < 3; ++i) {
        signer.sign(get_request("/b/k"), a, s3_doc_time());
    }
    EXPECT_EQ(signer.key_cache().derivations(), 1u);
}
