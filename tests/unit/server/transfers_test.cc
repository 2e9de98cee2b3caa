// SPDX-License-Identifier: Apache-2.0
// The transfer service's sizing: the pool never exceeds transfer_memory_limit, parts shrink to
// fit it (never below S3's 5 MiB minimum), and limits come from the configuration.
#include "io/loop_group.hh"
#include "server/config.hh"
#include "server/transfers.hh"

#include <gtest/gtest.h>

using namespace tv;

namespace {

constexpr uint64_t MiB = uint64_t{1} << 20;

struct pool_shape {
    size_t buffer_size;
    size_t capacity;
};

pool_shape shape_for(std::initializer_list<std::pair<const char*, const char*>> settings) {
    server::config cfg;
    for (const auto& [key, value] : settings) {
        auto error = cfg.set(key, value);
        EXPECT_FALSE(error) << key;
    }
    io::loop_group loops(1);
    server::transfer_service service(cfg, loops);
    return {service.pool().buffer_size(), service.pool().capacity()};
}

}  // namespace

TEST(transfer_buffer_size, the_part_size_when_four_buffers_fit) {
    EXPECT_EQ(server::transfer_buffer_size(16 * MiB, 256 * MiB), 16 * MiB);
    EXPECT_EQ(server::transfer_buffer_size(64 * MiB, 256 * MiB), 64 * MiB);
}

TEST(transfer_buffer_size, shrunk_to_a_quarter_of_the_budget_and_never_below_five_mib) {
    EXPECT_EQ(server::transfer_buffer_size(64 * MiB, 64 * MiB), 16 * MiB);
    EXPECT_EQ(server::transfer_buffer_size(5 * 1024 * MiB, 20 * MiB), 5 * MiB);
}

TEST(transfer_buffer_size, a_multiple_of_the_direct_io_alignment) {
    EXPECT_EQ(server::transfer_buffer_size(16 * MiB + 1000, 1024 * MiB), 16 * MiB);
    EXPECT_EQ(server::transfer_buffer_size(7 * MiB, 30 * MiB) % 4096, 0u);
}

TEST(transfer_service, the_defaults_are_sixteen_buffers_of_sixteen_mib_and_the_last_part_slack) {
    auto pool = shape_for({});
    EXPECT_EQ(pool.buffer_size, 16 * MiB + server::last_part_slack);
    EXPECT_EQ(pool.capacity, 16u);
}

TEST(transfer_service, the_pool_stays_within_the_budget_whatever_the_part_size) {
    for (const char* part : {"5M", "16M", "64M", "1G"}) {
        for (const char* budget : {"20M", "100M", "300M"}) {
            auto pool = shape_for({{"multipart_part_size", part}, {"transfer_memory_limit", budget}});
            server::config cfg;
            ASSERT_FALSE(cfg.set("transfer_memory_limit", budget));
            auto limit = static_cast<uint64_t>(cfg.get<"transfer_memory_limit">());
            // The parts fit the budget; each buffer's last-part slack comes on top.
            EXPECT_LE((pool.buffer_size - server::last_part_slack) * pool.capacity, limit)
                << part << " parts, " << budget << " budget";
            EXPECT_GE(pool.capacity, 4u) << part << " parts, " << budget << " budget";
        }
    }
}
