// SPDX-License-Identifier: Apache-2.0
// Every object_store call honours the caller's stop token: a single 64 MiB put, paced slowly
// by a pacer that does not watch the token itself, ends within about a second of the stop and
// leaves no object (a local directory and the RADOS Gateway), and the other calls of a local
// store fail as cancelled when the token is already stopped.
#include "support/co_test.hh"
#include "unit/remote/s3_test_util.hh"

#include "io/ops.hh"
#include "io/when_all.hh"
#include "remote/local_store.hh"
#include "remote/s3_client.hh"

#include <chrono>
#include <filesystem>
#include <stop_token>

using namespace std::chrono_literals;
using namespace tv;
using namespace tv::remote;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr size_t large = 64 << 20;

/// Lets a 256 KiB slice through every 20 ms (64 MiB in about five seconds) and never looks at
/// the stop token: whatever stops the put is the store's own doing.
body_pacer slow_pacer() {
    body_pacer pacer;
    pacer.take = [](size_t) -> io::task<bool> {
        co_await io::sleep(20ms);
        co_return true;
    };
    pacer.slice = 256 * 1024;
    pacer.allowance = std::chrono::seconds(60);
    return pacer;
}

io::task<void> put_paced(object_store* store, std::string key, std::span<const std::byte> data,
                         std::stop_token stop, remote_result<void>* out) {
    *out = co_await store->put(std::move(key), data, stop, slow_pacer());
}

io::task<void> stop_after(std::stop_source* stop, std::chrono::milliseconds after, clock_type::time_point* at) {
    co_await io::sleep(after);
    *at = clock_type::now();
    stop->request_stop();
}

struct stopped_put {
    remote_result<void> result;
    clock_type::duration after_stop{};  ///< how long the put ran on after the stop
};

/// A 64 MiB slowly paced put of `key`, stopped 300 ms in.
io::task<stopped_put> put_then_stop(object_store* store, std::string key) {
    std::string body = tv::testing::pattern_bytes(large, 3);
    std::stop_source stop;
    stopped_put out;
    clock_type::time_point stopped_at;
    std::vector<io::task<void>> both;
    both.push_back(put_paced(store, std::move(key), tv::testing::bytes_of(body), stop.get_token(), &out.result));
    both.push_back(stop_after(&stop, 300ms, &stopped_at));
    co_await io::when_all(std::move(both));
    out.after_stop = clock_type::now() - stopped_at;
    co_return out;
}

}  // namespace

CO_TEST(store_cancel, a_stop_ends_a_large_local_put_and_leaves_nothing) {
    tv::testing::temp_dir dir;
    local_store store(dir.file("root"));
    auto put = co_await put_then_stop(&store, "big/object");
    CO_ASSERT_FALSE(put.result.has_value());
    EXPECT_EQ(put.result.error().message, fmt::format("write big/object under {}: Operation canceled", store.root()));
    EXPECT_LT(put.after_stop, 1s);
    auto head = co_await store.head("big/object");
    CO_ASSERT_FALSE(head.has_value());
    EXPECT_EQ(head.error().code, remote_errc::not_found);
    for (const auto& e : std::filesystem::recursive_directory_iterator(store.root())) {
        EXPECT_FALSE(e.is_regular_file()) << "left behind: " << e.path();
    }
}

CO_TEST(store_cancel, a_stop_ends_a_large_s3_put_and_leaves_nothing) {
    CO_REQUIRE_RGW();
    std::string bucket = tv::testing::unique_bucket("tv-cancel");
    auto direct = tv::testing::rgw_client(bucket);
    S3_CO_ASSERT_OK(co_await direct.create_bucket());
    auto options = tv::testing::rgw_options(bucket);
    options.payload_signing = s3_payload_signing::unsigned_payload;  // no SHA-256 of 64 MiB first
    s3_object_store store(std::move(options), tv::testing::rgw_credentials(), "p/");
    auto put = co_await put_then_stop(&store, "big");
    CO_ASSERT_FALSE(put.result.has_value());
    EXPECT_FALSE(put.result.error().retryable);
    EXPECT_EQ(put.result.error().attempts, 1);
    EXPECT_EQ(put.result.error().message,
              fmt::format("PutObject s3://{}/p/big: Operation canceled", bucket));
    EXPECT_LT(put.after_stop, 1s);
    auto head = co_await store.head("big");
    CO_ASSERT_FALSE(head.has_value());
    EXPECT_EQ(head.error().code, remote_errc::not_found);
    EXPECT_EQ(store.client().stats().retries, 0u);
}

CO_TEST(store_cancel, every_local_call_fails_at_once_under_a_stopped_token) {
    tv::testing::temp_dir dir;
    local_store store(dir.file("root"));
    std::string body = "kept";
    auto made = co_await store.put("k", tv::testing::bytes_of(body));
    CO_ASSERT_TRUE(made.has_value());
    std::stop_source stop;
    stop.request_stop();
    std::stop_token stopped = stop.get_token();
    auto put = co_await store.put("other", tv::testing::bytes_of(body), stopped);
    EXPECT_FALSE(put.has_value());
    auto get = co_await store.get("k", std::nullopt, stopped);
    EXPECT_FALSE(get.has_value());
    auto head = co_await store.head("k", stopped);
    EXPECT_FALSE(head.has_value());
    auto list = co_await store.list("", stopped);
    EXPECT_FALSE(list.has_value());
    std::vector<std::string> keys{"k"};
    auto removed = co_await store.remove(keys, stopped);
    EXPECT_FALSE(removed.has_value());
    std::string into(4, '\0');
    auto read = co_await store.read("k", 0, std::as_writable_bytes(std::span(into.data(), into.size())), stopped);
    EXPECT_FALSE(read.has_value());
    auto begun = co_await store.begin_upload("u", stopped);
    EXPECT_FALSE(begun.has_value());
    // Nothing changed: the object is there, and nothing else is.
    auto still = co_await store.get("k");
    CO_ASSERT_TRUE(still.has_value());
    EXPECT_EQ(*still, body);
    auto listed = co_await store.list("");
    CO_ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->size(), 1u);
}
