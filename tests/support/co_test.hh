// SPDX-License-Identifier: Apache-2.0
// CO_TEST: a GoogleTest case whose body is a coroutine, run to completion on a fresh loop.
// GoogleTest's ASSERT_* `return`, which a coroutine cannot; use the CO_ASSERT_* forms inside
// CO_TEST bodies (EXPECT_* work as they are).
#pragma once

#include "io/loop.hh"
#include "io/sync_wait.hh"
#include "io/task.hh"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace tv::testing {

inline void run_co_test(io::task<void> (*body)(), io::loop_options options = {}) {
    io::loop l(options);
    io::sync_wait(l, body());
}

/// A fresh directory under TMPDIR (or /tmp), removed with everything in it at scope end.
class temp_dir {
public:
    temp_dir() {
        const char* base = std::getenv("TMPDIR");
        std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/tv-test-XXXXXX";
        char* made = ::mkdtemp(pattern.data());
        if (made == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        _path = made;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(_path, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const { return _path; }
    std::string file(const std::string& name) const { return _path + "/" + name; }

private:
    std::string _path;
};

}  // namespace tv::testing

#define TV_CO_TEST_NAME(suite, name) suite##_##name##_coroutine_body

#define CO_TEST(suite, name)                                               \
    static ::tv::io::task<void> TV_CO_TEST_NAME(suite, name)();            \
    TEST(suite, name) { ::tv::testing::run_co_test(&TV_CO_TEST_NAME(suite, name)); } \
    static ::tv::io::task<void> TV_CO_TEST_NAME(suite, name)()

// Runs a GoogleTest ASSERT inside a lambda (where its `return` is harmless) and leaves the
// coroutine if it failed. Operands are evaluated first, outside the lambda, so they may co_await.
#define TV_CO_ASSERT(assertion)            \
    do {                                   \
        bool tv_passed_ = false;           \
        [&] {                              \
            assertion;                     \
            tv_passed_ = true;             \
        }();                               \
        if (!tv_passed_) {                 \
            co_return;                     \
        }                                  \
    } while (0)

#define TV_CO_ASSERT_BOOL(c, want)                                                     \
    do {                                                                               \
        bool tv_value_ = static_cast<bool>(c);                                         \
        TV_CO_ASSERT(ASSERT_EQ(tv_value_, want) << "  where the condition is: " #c);  \
    } while (0)

#define TV_CO_ASSERT_CMP(gtest_assert, a, b)                                        \
    do {                                                                            \
        auto&& tv_a_ = (a);                                                         \
        auto&& tv_b_ = (b);                                                         \
        TV_CO_ASSERT(gtest_assert(tv_a_, tv_b_) << "  comparing: " #a " with " #b); \
    } while (0)

#define CO_ASSERT_TRUE(c) TV_CO_ASSERT_BOOL(c, true)
#define CO_ASSERT_FALSE(c) TV_CO_ASSERT_BOOL(c, false)
#define CO_ASSERT_EQ(a, b) TV_CO_ASSERT_CMP(ASSERT_EQ, a, b)
#define CO_ASSERT_NE(a, b) TV_CO_ASSERT_CMP(ASSERT_NE, a, b)
#define CO_ASSERT_GE(a, b) TV_CO_ASSERT_CMP(ASSERT_GE, a, b)
#define CO_ASSERT_LE(a, b) TV_CO_ASSERT_CMP(ASSERT_LE, a, b)
#define CO_ASSERT_LT(a, b) TV_CO_ASSERT_CMP(ASSERT_LT, a, b)
/// GTEST_SKIP for coroutine bodies: records the skip with its reason and leaves the coroutine.
#define CO_SKIP(reason)                                \
    do {                                               \
        [&] { GTEST_SKIP() << reason; }();             \
        co_return;                                     \
    } while (0)

/// The text of any layer's error: std::error_code's message(), or the `message` member the
/// other layers' error values carry.
namespace tv::testing {
template <class E>
std::string error_text(const E& e) {
    if constexpr (requires { e.message(); }) {
        return e.message();
    } else {
        return e.message;
    }
}
}  // namespace tv::testing

/// Asserts a result<T> (of any layer) holds a value, printing its error otherwise.
#define CO_ASSERT_OK(r)                                                                               \
    do {                                                                                              \
        auto&& tv_result_ = (r);                                                                      \
        TV_CO_ASSERT(ASSERT_TRUE(tv_result_.has_value())                                              \
                     << #r << ": " << ::tv::testing::error_text(tv_result_.error()));                 \
    } while (0)
