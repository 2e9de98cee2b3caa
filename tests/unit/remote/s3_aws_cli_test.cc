// SPDX-License-Identifier: Apache-2.0
// Interoperability with the AWS CLI on the RADOS Gateway: what our client writes (a plain
// object, a multipart object, a unicode key) the CLI reads back byte-identical, and what the
// CLI writes (a multipart upload of its own) our client reads.
#include "support/co_test.hh"
#include "unit/remote/s3_test_util.hh"

#include "remote/s3_client.hh"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace tv;
using namespace tv::remote;
using tv::testing::bytes_of;
using tv::testing::pattern_bytes;

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
}

/// Runs the AWS CLI on the gateway; its exit status, with stderr kept in `errors`.
int aws(const std::string& cli, const std::string& args, const std::string& errors) {
    std::string command = fmt::format("{} {} >/dev/null 2>'{}'", cli, args, errors);
    return std::system(command.c_str());
}

}  // namespace

CO_TEST(s3_aws_cli, reads_what_we_wrote_and_we_read_what_it_wrote) {
    CO_REQUIRE_RGW();
    std::string cli = tv::testing::rgw_aws_cli();
    if (cli.empty()) {
        CO_SKIP("the AWS CLI (aws) is not installed");
    }
    std::string bucket = tv::testing::unique_bucket("tv-cli");
    auto client = tv::testing::rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await client.create_bucket());

    std::string plain = pattern_bytes(300'000, 21);
    S3_CO_ASSERT_OK(co_await client.put_object("ours/plain.bin", bytes_of(plain)));
    std::string unicode_key = "ours/\xc3\xbcn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e key+1.txt";
    std::string unicode_body = "written under a unicode key";
    S3_CO_ASSERT_OK(co_await client.put_object(unicode_key, bytes_of(unicode_body)));
    std::vector<std::string> parts{pattern_bytes(5 << 20, 22), pattern_bytes(5 << 20, 23), pattern_bytes(4096, 24)};
    auto upload = co_await client.create_multipart_upload("ours/multipart.bin");
    S3_CO_ASSERT_OK(upload);
    std::vector<s3_part> done;
    for (size_t i = 0; i < parts.size(); ++i) {
        int number = static_cast<int>(i) + 1;
        auto etag = co_await client.upload_part("ours/multipart.bin", *upload, number, bytes_of(parts[i]));
        S3_CO_ASSERT_OK(etag);
        done.push_back(s3_part{number, *etag, parts[i].size()});
    }
    S3_CO_ASSERT_OK(co_await client.complete_multipart_upload("ours/multipart.bin", *upload, done));

    // One CLI run downloads all three (keys become paths, the unicode one included).
    tv::testing::temp_dir dir;
    std::string errors = dir.file("aws.err");
    int status = aws(cli, fmt::format("s3 cp --recursive 's3://{}/ours/' '{}'", bucket, dir.file("down")), errors);
    TV_CO_ASSERT(ASSERT_EQ(status, 0) << read_file(errors));
    EXPECT_TRUE(read_file(dir.file("down/plain.bin")) == plain);
    EXPECT_EQ(read_file(dir.file("down/" + unicode_key.substr(5))), unicode_body);
    std::string multipart = read_file(dir.file("down/multipart.bin"));
    EXPECT_EQ(multipart.size(), 10u * 1024 * 1024 + 4096);
    EXPECT_TRUE(multipart == parts[0] + parts[1] + parts[2]);
    // And one object streamed to stdout, as the issue names it.
    status = std::system(fmt::format("{} s3 cp 's3://{}/ours/plain.bin' - >'{}' 2>'{}'", cli, bucket,
                                     dir.file("stdout.bin"), errors)
                             .c_str());
    TV_CO_ASSERT(ASSERT_EQ(status, 0) << read_file(errors));
    EXPECT_TRUE(read_file(dir.file("stdout.bin")) == plain);

    // The CLI uploads 9 MiB as a multipart upload of its own (8 MiB parts): we read it whole
    // and by range.
    std::string theirs = pattern_bytes(9 << 20, 25);
    write_file(dir.file("theirs.bin"), theirs);
    status = aws(cli, fmt::format("s3 cp '{}' 's3://{}/theirs/\xc3\xa9t\xc3\xa9 +.bin'", dir.file("theirs.bin"), bucket),
                 errors);
    TV_CO_ASSERT(ASSERT_EQ(status, 0) << read_file(errors));
    auto head = co_await client.head_object("theirs/\xc3\xa9t\xc3\xa9 +.bin");
    S3_CO_ASSERT_OK(head);
    EXPECT_EQ(head->size, theirs.size());
    EXPECT_TRUE(head->etag.ends_with("-2\"")) << head->etag << ": the CLI's multipart upload";
    auto got = co_await client.get_object("theirs/\xc3\xa9t\xc3\xa9 +.bin");
    S3_CO_ASSERT_OK(got);
    EXPECT_TRUE(*got == theirs);
    byte_range seam{(8 << 20) - 3, 6};
    auto across = co_await client.get_object("theirs/\xc3\xa9t\xc3\xa9 +.bin", seam);
    S3_CO_ASSERT_OK(across);
    EXPECT_TRUE(*across == theirs.substr((8 << 20) - 3, 6));
}
