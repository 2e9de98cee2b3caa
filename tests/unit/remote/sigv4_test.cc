// SPDX-License-Identifier: Apache-2.0
// The SigV4 signer against AWS's published test suite (tests/data/sigv4, a copy of
// ../shared/testdata/sigv4): every case is parsed from its .req, signed, and compared byte for
// byte with its .creq, .sts and .authz, under the generic URI rules and under S3's.
#include "remote/sigv4.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace rm = tv::remote;
namespace fs = std::filesystem;

namespace {

const fs::path suite_dir{TV_SIGV4_TESTDATA};

// The suite's fixed inputs (SOURCE.md; AWS's suite README and post-sts-token/readme.txt).
const rm::aws_credentials suite_credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* suite_region = "us-east-1";
constexpr const char* suite_service = "service";
constexpr const char* suite_session_token =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUu"
    "wthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQc"
    "HNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/o"
    "LxBA==";
// 31 cases: SOURCE.md counts them; a copy that lost some must fail, not pass on fewer.
constexpr std::size_t suite_case_count = 31;

std::chrono::system_clock::time_point suite_time() {
    using namespace std::chrono;
    return sys_days{year{2015} / 8 / 30} + hours{12} + minutes{36};
}

// Cases that do not apply under a rule set, each with its reason. Under S3's rules the path is
// never normalised (normalize-path/normalize-path.txt), so these cases' expected canonical
// requests, which hold the normalised path, cannot be S3's; s3_keeps_suite_paths_as_sent checks
// what S3 signs for the same requests instead. get-space is not listed: it has nothing to
// normalise and S3 encodes its space exactly as the suite expects.
struct not_applicable {
    const char* name;
    rm::uri_rules rules;
    const char* reason;
};
constexpr const char* s3_no_normalise = "S3 does not normalise paths; the expected values hold the normalised path";
const not_applicable not_applicable_cases[] = {
    {"normalize-path/get-relative", rm::uri_rules::s3, s3_no_normalise},
    {"normalize-path/get-relative-relative", rm::uri_rules::s3, s3_no_normalise},
    {"normalize-path/get-slash", rm::uri_rules::s3, s3_no_normalise},
    {"normalize-path/get-slash-dot-slash", rm::uri_rules::s3, s3_no_normalise},
    {"normalize-path/get-slash-pointless-dot", rm::uri_rules::s3, s3_no_normalise},
    {"normalize-path/get-slashes", rm::uri_rules::s3, s3_no_normalise},
};

std::optional<std::string> not_applicable_reason(const std::string& name, rm::uri_rules rules) {
    for (const auto& n : not_applicable_cases) {
        if (name == n.name && rules == n.rules) {
            return std::string(n.reason);
        }
    }
    return std::nullopt;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (!in) {
        ADD_FAILURE() << "cannot read " << p;
    }
    return s.str();
}

// The files disagree about a final newline (SOURCE.md); compare without one.
std::string read_expected(const fs::path& p) {
    std::string s = read_file(p);
    if (!s.empty() && s.back() == '\n') {
        s.pop_back();
    }
    return s;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

struct http_text {
    std::string method;
    std::string path;  // as on the request line
    std::vector<rm::query_param> query;
    std::vector<rm::http_header> headers;
    std::string body;
};

// A .req/.sreq file: request line, headers (a line starting with blank space continues the one
// before, kept as "\n"-separated lines for the signer to fold), blank line, body.
http_text parse_http(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t nl = text.find('\n', start);
        std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        lines.push_back(std::move(line));
        if (nl == std::string::npos) {
            break;
        }
        start = nl + 1;
    }
    http_text r;
    // The request target may hold spaces (normalize-path/get-space): method is the first word,
    // the protocol the last, the target everything between.
    const std::string& first = lines.at(0);
    std::size_t sp1 = first.find(' ');
    std::size_t sp2 = first.rfind(' ');
    r.method = first.substr(0, sp1);
    std::string target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) {
        std::string_view query = std::string_view(target).substr(q + 1);
        while (!query.empty()) {
            std::size_t amp = query.find('&');
            std::string_view pair = query.substr(0, amp);
            std::size_t eq = pair.find('=');
            r.query.push_back({rm::percent_decode(pair.substr(0, eq)),
                               eq == std::string_view::npos ? "" : rm::percent_decode(pair.substr(eq + 1))});
            query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        }
    }
    std::size_t i = 1;
    for (; i < lines.size() && !lines[i].empty(); ++i) {
        if ((lines[i][0] == ' ' || lines[i][0] == '\t') && !r.headers.empty()) {
            r.headers.back().value += "\n" + lines[i];
            continue;
        }
        std::size_t colon = lines[i].find(':');
        r.headers.push_back({lines[i].substr(0, colon), lines[i].substr(colon + 1)});
    }
    for (std::size_t b = i + 1; b < lines.size(); ++b) {
        r.body += lines[b];
        if (b + 1 < lines.size()) {
            r.body += '\n';
        }
    }
    return r;
}

struct suite_case {
    std::string name;  // relative to the suite, e.g. "normalize-path/get-space"
    fs::path stem;     // the case's files without extension
};

std::vector<suite_case> discover_cases() {
    std::vector<suite_case> cases;
    std::error_code ec;
    if (!fs::is_directory(suite_dir, ec)) {
        return cases;
    }
    for (const auto& entry : fs::recursive_directory_iterator(suite_dir)) {
        if (entry.is_regular_file() && entry.path().extension() == ".req") {
            fs::path stem = entry.path();
            stem.replace_extension();
            cases.push_back({fs::relative(entry.path().parent_path(), suite_dir).generic_string(), stem});
        }
    }
    std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return cases;
}

const char* rules_name(rm::uri_rules rules) {
    return rules == rm::uri_rules::generic ? "generic" : "s3";
}

// Signs a suite case. The S3 run keeps the suite's other conventions (its "service" does not use
// x-amz-content-sha256); only the URI rules change.
rm::sigv4_signature sign_case(const suite_case& c, const http_text& req, rm::uri_rules rules) {
    rm::sigv4_options options;
    options.uri = rules;
    rm::aws_credentials credentials = suite_credentials;
    if (c.name.starts_with("post-sts-token/")) {
        credentials.session_token = suite_session_token;
        // readme.txt: "before" signs the token header, "after" adds it once signed.
        options.sign_session_token = c.name.ends_with("post-sts-header-before");
    }
    rm::sigv4_request r;
    r.method = req.method;
    r.path = req.path;
    r.query = req.query;
    r.headers = req.headers;
    r.payload_hash = rm::sha256_hex(req.body);
    rm::sigv4_signer signer(suite_region, suite_service, options);
    return signer.sign(r, credentials, suite_time());
}

struct suite_param {
    suite_case c;
    rm::uri_rules rules;
    bool suite_missing = false;
};

// Failure messages name the case instead of dumping the parameter's bytes.
void PrintTo(const suite_param& p, std::ostream* os) {
    *os << p.c.name << " under " << rules_name(p.rules) << " rules";
}

std::vector<suite_param> suite_params() {
    std::vector<suite_param> params;
    for (const auto& c : discover_cases()) {
        params.push_back({c, rm::uri_rules::generic});
        params.push_back({c, rm::uri_rules::s3});
    }
    if (params.empty()) {  // one test that skips and says why, rather than none at all
        params.push_back({{"suite_missing", {}}, rm::uri_rules::generic, true});
    }
    return params;
}

std::string param_name(const ::testing::TestParamInfo<suite_param>& info) {
    std::string name = std::string(rules_name(info.param.rules)) + "_" + info.param.c.name;
    for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) {
            ch = '_';
        }
    }
    return name;
}

class sigv4_suite : public ::testing::TestWithParam<suite_param> {};

}  // namespace

TEST_P(sigv4_suite, signs_like_aws) {
    const suite_param& p = GetParam();
    if (p.suite_missing) {
        GTEST_SKIP() << "the AWS SigV4 test suite is not at " << suite_dir << " (TV_SIGV4_TESTDATA)";
    }
    if (auto reason = not_applicable_reason(p.c.name, p.rules)) {
        GTEST_SKIP() << p.c.name << " under " << rules_name(p.rules) << " rules: " << *reason;
    }
    const http_text req = parse_http(read_file(p.c.stem.string() + ".req"));
    const rm::sigv4_signature sig = sign_case(p.c, req, p.rules);
    EXPECT_EQ(sig.canonical_request, read_expected(p.c.stem.string() + ".creq"));
    EXPECT_EQ(sig.string_to_sign, read_expected(p.c.stem.string() + ".sts"));
    EXPECT_EQ(sig.authorization, read_expected(p.c.stem.string() + ".authz"));

    // Every header the signer asks for is in the suite's signed request, with that value.
    const http_text signed_req = parse_http(read_file(p.c.stem.string() + ".sreq"));
    for (const auto& h : sig.headers) {
        auto found = std::find_if(signed_req.headers.begin(), signed_req.headers.end(), [&](const auto& s) {
            return lower(s.name) == lower(h.name) && trimmed(s.value) == h.value;
        });
        EXPECT_NE(found, signed_req.headers.end()) << h.name << ": " << h.value << " is not in the .sreq";
    }
}

INSTANTIATE_TEST_SUITE_P(aws_suite, sigv4_suite, ::testing::ValuesIn(suite_params()), param_name);

// The skip list is part of the contract: exactly these cases are skipped, each exists, and
// everything else ran.
TEST(sigv4_suite_coverage, every_case_runs_or_is_listed_as_not_applicable) {
    auto cases = discover_cases();
    if (cases.empty()) {
        GTEST_SKIP() << "the AWS SigV4 test suite is not at " << suite_dir << " (TV_SIGV4_TESTDATA)";
    }
    EXPECT_EQ(cases.size(), suite_case_count);
    for (const auto& n : not_applicable_cases) {
        bool exists = std::any_of(cases.begin(), cases.end(), [&](const auto& c) { return c.name == n.name; });
        EXPECT_TRUE(exists) << n.name << " is listed as not applicable but is not in the suite";
    }
    std::size_t generic_run = 0;
    std::size_t s3_run = 0;
    for (const auto& c : cases) {
        generic_run += !not_applicable_reason(c.name, rm::uri_rules::generic).has_value();
        s3_run += !not_applicable_reason(c.name, rm::uri_rules::s3).has_value();
    }
    EXPECT_EQ(generic_run, suite_case_count) << "every case applies to the generic signer";
    EXPECT_EQ(s3_run, suite_case_count - 6) << "only the six normalising cases are skipped under S3 rules";
}

// What S3 signs for the normalize-path requests: the path as sent, encoded once; every other
// line of the canonical request is the suite's.
TEST(sigv4_suite_coverage, s3_keeps_suite_paths_as_sent) {
    auto cases = discover_cases();
    if (cases.empty()) {
        GTEST_SKIP() << "the AWS SigV4 test suite is not at " << suite_dir << " (TV_SIGV4_TESTDATA)";
    }
    std::size_t checked = 0;
    for (const auto& c : cases) {
        if (!c.name.starts_with("normalize-path/")) {
            continue;
        }
        SCOPED_TRACE(c.name);
        const http_text req = parse_http(read_file(c.stem.string() + ".req"));
        const rm::sigv4_signature sig = sign_case(c, req, rm::uri_rules::s3);
        std::string expected = read_expected(c.stem.string() + ".creq");
        std::size_t line2 = expected.find('\n') + 1;
        expected.replace(line2, expected.find('\n', line2) - line2, rm::uri_encode_path(req.path));
        EXPECT_EQ(sig.canonical_request, expected);
        ++checked;
    }
    EXPECT_EQ(checked, 7u);
}
