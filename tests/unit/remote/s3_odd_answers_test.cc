// SPDX-License-Identifier: Apache-2.0
// What the S3 client makes of answers no real store should send but a proxy, a cut connection
// or a buggy server can: a listing that is not a whole ListBucketResult (an HTML page, a body
// cut short), an entry whose age cannot be read, and a continuation token that never advances.
// Each is an error naming the request, never a short listing taken as whole or an endless loop.
// And a store that asks for fewer requests (503 SlowDown, Retry-After) is given them; a
// completion whose answer was lost is found done when the object is what its parts make; a
// ranged read refuses bytes from anywhere but where it asked.
#include "support/co_test.hh"
#include "support/loopback_listener.hh"

#include "remote/s3_client.hh"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace tv::remote {
namespace {

/// A blocking one-thread server that answers every request with what `answer` gives for the
/// request's method and target ("POST /b/k?uploadId=u"): a whole answer when it starts with
/// "HTTP/", no answer and the connection closed for "CLOSE", else the body of a 200.
class scripted_store {
public:
    explicit scripted_store(std::function<std::string(const std::string&)> answer) : _answer(std::move(answer)) {
        _thread = std::thread([this] { serve(); });
    }
    ~scripted_store() {
        _done = true;
        _thread.join();
    }

    tv::testing::loopback_listener listener;
    std::atomic<int> requests{0};

private:
    static std::string header_of(const std::string& head, const std::string& name) {
        size_t at = head.find("\r\n" + name + ": ");
        if (at == std::string::npos) {
            return {};
        }
        at += name.size() + 4;
        return head.substr(at, head.find("\r\n", at) - at);
    }

    void serve() {
        while (!_done) {
            int fd = listener.accept_within(50);
            if (fd < 0) {
                continue;
            }
            std::string got;
            char chunk[4096];
            for (;;) {
                size_t end = got.find("\r\n\r\n");
                if (end == std::string::npos) {
                    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
                    if (n <= 0) {
                        break;
                    }
                    got.append(chunk, static_cast<size_t>(n));
                    continue;
                }
                size_t first_space = got.find(' ');
                std::string target = got.substr(0, got.find(' ', first_space + 1));
                std::string length = header_of(got.substr(0, end + 4), "Content-Length");
                size_t body_bytes = length.empty() ? 0 : std::stoul(length);
                while (got.size() < end + 4 + body_bytes) {
                    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
                    if (n <= 0) {
                        break;
                    }
                    got.append(chunk, static_cast<size_t>(n));
                }
                got.erase(0, std::min(got.size(), end + 4 + body_bytes));
                ++requests;
                std::string body = _answer(target);
                if (body == "CLOSE") {
                    break;
                }
                std::string answer = body;
                if (!body.starts_with("HTTP/")) {
                    answer = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
                }
                ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
            }
            ::close(fd);
        }
    }

    std::function<std::string(const std::string&)> _answer;
    std::atomic<bool> _done{false};
    std::thread _thread;
};

s3_client client_of(const scripted_store& store) {
    s3_client_options options;
    options.endpoint_host = "127.0.0.1";
    options.endpoint_port = store.listener.port;
    options.bucket = "b";
    options.region = "us-east-1";
    options.addressing = s3_addressing::path;
    options.retry.base_delay = std::chrono::milliseconds(1);
    options.retry.max_delay = std::chrono::milliseconds(5);
    options.retry.throttled_base_delay = std::chrono::milliseconds(1);
    options.retry.throttled_max_delay = std::chrono::milliseconds(5);
    return s3_client(options, aws_credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""});
}

std::string listing(std::string entries, std::string tail) {
    return R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
           "<Name>b</Name><Prefix>p/</Prefix>" +
           entries + tail;
}

const std::string entry =
    "<Contents><Key>p/a</Key><LastModified>2026-12-07T10:00:00.000Z</LastModified><Size>3</Size></Contents>";

CO_TEST(s3_odd_answers, a_listing_that_is_not_a_whole_list_bucket_result_is_an_error) {
    std::string page;
    scripted_store store([&page](const std::string&) { return page; });
    CO_ASSERT_NE(store.listener.port, 0);
    auto client = client_of(store);

    page = listing(entry, "<IsTruncated>false</IsTruncated></ListBucketResult>");
    auto whole = co_await client.list_all("p/");
    CO_ASSERT_TRUE(whole.has_value());
    CO_ASSERT_EQ(whole->size(), 1u);
    EXPECT_EQ((*whole)[0].key, "p/a");
    EXPECT_EQ((*whole)[0].modified_ms, 1'796'637'600'000);

    for (const std::string& odd : {std::string("<html><body>Gateway maintenance</body></html>"),
                                   listing(entry, "<IsTrunc"),
                                   listing("<Contents><Key>p/a</Key><Size>3</Size></Contents>",
                                           "<IsTruncated>false</IsTruncated></ListBucketResult>")}) {
        page = odd;
        auto listed = co_await client.list_all("p/");
        CO_ASSERT_FALSE(listed.has_value());
        EXPECT_NE(listed.error().message.find("ListObjectsV2"), std::string::npos) << listed.error().message;
    }
}

CO_TEST(s3_odd_answers, a_continuation_token_that_does_not_advance_ends_the_listing_with_an_error) {
    scripted_store store([](const std::string&) {
        return listing(entry, "<IsTruncated>true</IsTruncated><NextContinuationToken>same</NextContinuationToken>"
                              "</ListBucketResult>");
    });
    CO_ASSERT_NE(store.listener.port, 0);
    auto client = client_of(store);
    auto listed = co_await client.list_all("p/");
    CO_ASSERT_FALSE(listed.has_value());
    EXPECT_NE(listed.error().message.find("the continuation token does not advance"), std::string::npos)
        << listed.error().message;
    EXPECT_EQ(store.requests.load(), 2) << "the first page, then the one that repeats its token";
}

CO_TEST(s3_odd_answers, a_part_number_marker_that_does_not_advance_ends_the_part_listing_with_an_error) {
    scripted_store store([](const std::string&) {
        return std::string("<?xml version=\"1.0\"?><ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag>"
                           "<Size>5</Size></Part><IsTruncated>true</IsTruncated>"
                           "<NextPartNumberMarker>1</NextPartNumberMarker></ListPartsResult>");
    });
    CO_ASSERT_NE(store.listener.port, 0);
    auto client = client_of(store);
    auto parts = co_await client.list_parts("p/big", "upload-1");
    CO_ASSERT_FALSE(parts.has_value());
    EXPECT_NE(parts.error().message.find("the part number marker does not advance"), std::string::npos)
        << parts.error().message;
    EXPECT_EQ(store.requests.load(), 2);
}

/// 503 SlowDown, as S3 answers a prefix it is spreading load for.
std::string slow_down(std::string extra_headers) {
    std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                       "<Message>Please reduce your request rate.</Message></Error>";
    return "HTTP/1.1 503 Slow Down\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers +
           "\r\n" + body;
}

CO_TEST(s3_odd_answers, a_store_that_asks_to_slow_down_is_given_more_attempts) {
    std::atomic<int> answered{0};
    scripted_store store([&answered](const std::string&) {
        // Six refusals: past the four attempts other failures get, within the throttled ten.
        return ++answered <= 6 ? slow_down("")
                               : listing(entry, "<IsTruncated>false</IsTruncated></ListBucketResult>");
    });
    CO_ASSERT_NE(store.listener.port, 0);
    auto client = client_of(store);
    auto listed = co_await client.list_all("p/");
    CO_ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->size(), 1u);
    EXPECT_EQ(store.requests.load(), 7);

    answered = -100;  // refuses from now on: ten attempts, then the store's own words
    auto refused = co_await client.list_all("p/");
    CO_ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, "SlowDown");
    EXPECT_TRUE(refused.error().throttled);
    EXPECT_EQ(refused.error().attempts, 10);
    EXPECT_NE(refused.error().message.find("(after 10 attempts)"), std::string::npos) << refused.error().message;
}

CO_TEST(s3_odd_answers, retry_after_is_waited_for) {
    std::atomic<int> answered{0};
    scripted_store store([&answered](const std::string&) {
        return ++answered == 1 ? slow_down("Retry-After: 1\r\n")
                               : listing(entry, "<IsTruncated>false</IsTruncated></ListBucketResult>");
    });
    CO_ASSERT_NE(store.listener.port, 0);
    auto client = client_of(store);
    auto started = std::chrono::steady_clock::now();
    auto listed = co_await client.list_all("p/");
    auto waited = std::chrono::steady_clock::now() - started;
    CO_ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(store.requests.load(), 2);
    EXPECT_GE(waited, std::chrono::milliseconds(1000)) << "the store's Retry-After: 1, not the 5 ms backoff";
}

CO_TEST(s3_odd_answers, a_completion_whose_answer_was_lost_is_found_done_by_its_etag) {
    // Two parts with the MD5 ETags S3 gives them; the object they make has the ETag below.
    std::vector<s3_part> parts{s3_part{1, "\"6f5902ac237024bdd0c176cb93063dc4\"", 5 << 20},
                               s3_part{2, "\"0cc175b9c0f1b6a831c399e269772661\"", 7}};
    std::atomic<int> answered{0};
    std::string head_etag;
    scripted_store store([&answered, &head_etag](const std::string& request) {
        int n = ++answered;
        if (request.starts_with("POST ") && n == 1) {
            return std::string("CLOSE");  // completed, and the answer lost with the connection
        }
        if (request.starts_with("POST ")) {
            std::string body = "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>";
            return "HTTP/1.1 404 Not Found\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        }
        return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string((5 << 20) + 7) + "\r\nETag: " + head_etag +
               "\r\n\r\n";
    });
    CO_ASSERT_NE(store.listener.port, 0);
    auto client = client_of(store);

    head_etag = "\"" + std::string(32, '0') + "-2\"";  // another object of the same size: not ours
    auto wrong = co_await client.complete_multipart_upload("p/big", "u1", parts);
    CO_ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, "NoSuchUpload");

    // The ETag these parts make: MD5 of their binary MD5s, then "-2".
    answered = 0;
    head_etag = "\"b06a06e55f3e092bf8ebf53d39ae7882-2\"";
    auto done = co_await client.complete_multipart_upload("p/big", "u1", parts);
    CO_ASSERT_TRUE(done.has_value());
    EXPECT_EQ(*done, head_etag);
    EXPECT_EQ(store.requests.load(), 6) << "each time: the lost completion, its resend, the HEAD";
}

CO_TEST(s3_odd_answers, a_ranged_read_takes_only_the_bytes_it_asked_for) {
    std::string answer;
    scripted_store store([&answer](const std::string&) { return answer; });
    CO_ASSERT_NE(store.listener.port, 0);
    auto client = client_of(store);
    std::string buffer(10, '\0');
    auto into = std::as_writable_bytes(std::span(buffer.data(), buffer.size()));

    answer = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-109/1000\r\nContent-Length: 10\r\n\r\n"
             "abcdefghij";
    auto right = co_await client.get_object_into("p/o", 100, into);
    CO_ASSERT_TRUE(right.has_value());
    EXPECT_EQ(*right, 10u);
    EXPECT_EQ(buffer, "abcdefghij");

    for (const std::string& wrong :
         {std::string("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/1000\r\nContent-Length: 10\r\n\r\n"
                      "0123456789"),  // another range
          std::string("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"),  // Range ignored
          std::string("HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n0123456789")}) {  // unlabelled
        answer = wrong;
        auto read = co_await client.get_object_into("p/o", 100, into);
        CO_ASSERT_FALSE(read.has_value());
        EXPECT_EQ(read.error().kind, s3_error_kind::protocol) << read.error().message;
        EXPECT_NE(read.error().message.find("GetObject"), std::string::npos) << read.error().message;
    }
    // From byte 0 a store that ignores Range sends what was asked for.
    answer = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    auto whole = co_await client.get_object_into("p/o", 0, into);
    CO_ASSERT_TRUE(whole.has_value());
    EXPECT_EQ(buffer, "0123456789");
}

}  // namespace
}  // namespace tv::remote
