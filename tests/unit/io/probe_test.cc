// SPDX-License-Identifier: Apache-2.0
// The start-up probe: a scripted probe proves the refusals say what is missing and why; the
// real kernel here must pass it.
#include "io/probe.hh"

#include <gtest/gtest.h>
#include <liburing.h>

#include <set>

namespace io = tv::io;

namespace {

class scripted_probe final : public io::opcode_probe {
public:
    std::error_code ring;
    std::set<int> missing;
    std::error_code ring_error() override { return ring; }
    bool supports(int opcode) override { return !missing.contains(opcode); }
};

}  // namespace

TEST(probe, refuses_when_io_uring_is_disabled) {
    scripted_probe p;
    p.ring = std::make_error_code(std::errc::operation_not_permitted);
    auto reason = io::refusal_reason(p);
    ASSERT_TRUE(reason.has_value());
    EXPECT_NE(reason->find("io_uring is unavailable"), std::string::npos) << *reason;
    EXPECT_NE(reason->find("/proc/sys/kernel/io_uring_disabled"), std::string::npos) << *reason;
}

TEST(probe, refuses_when_the_kernel_has_no_io_uring) {
    scripted_probe p;
    p.ring = std::make_error_code(std::errc::function_not_supported);
    auto reason = io::refusal_reason(p);
    ASSERT_TRUE(reason.has_value());
    EXPECT_NE(reason->find("Linux 5.15"), std::string::npos) << *reason;
}

TEST(probe, names_every_missing_opcode_and_its_purpose) {
    scripted_probe p;
    p.missing = {IORING_OP_LINKAT, IORING_OP_MKDIRAT};
    auto reason = io::refusal_reason(p);
    ASSERT_TRUE(reason.has_value());
    EXPECT_NE(reason->find("LINKAT (Linux 5.15+, for hard links, which is how snapshots are taken)"),
              std::string::npos)
        << *reason;
    EXPECT_NE(reason->find("MKDIRAT"), std::string::npos) << *reason;
    EXPECT_EQ(reason->find("RENAMEAT"), std::string::npos) << "only what is missing is named: " << *reason;
}

TEST(probe, a_complete_kernel_passes) {
    scripted_probe p;
    EXPECT_FALSE(io::refusal_reason(p).has_value());
}

TEST(probe, this_kernel_supports_everything_we_use) {
    io::kernel_opcode_probe real;
    if (real.ring_error()) {
        GTEST_SKIP() << "io_uring unavailable here: " << real.ring_error().message();
    }
    auto reason = io::refusal_reason(real);
    EXPECT_FALSE(reason.has_value()) << *reason;
}
