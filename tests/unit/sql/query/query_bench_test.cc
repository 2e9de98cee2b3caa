// SPDX-License-Identifier: Apache-2.0
// A timing of the INSERT ... SELECT path, not a test: disabled unless asked for with
// --gtest_also_run_disabled_tests (use a Release build). It prints rows/s and MB/s of column
// data for SELECT id, id * 2, concat('name-', CAST(id AS VARCHAR)), id % 100 over
// generate_series, each batch brought to (BIGINT, BIGINT, VARCHAR(64), INT) by cast_batch.
#include "unit/sql/query/query_test_util.hh"

#include <chrono>
#include <cstdio>
#include <cstdlib>

using namespace tv::sql;
using namespace tv::sql::qtest;

namespace {

/// generate_series with its column named `id`.
class renamed final : public batch_source {
public:
    explicit renamed(std::unique_ptr<batch_source> inner) : _inner(std::move(inner)) {
        _schema = _inner->schema();
        _schema[0].name = "id";
    }
    const std::vector<column_desc>& schema() const override { return _schema; }
    tv::io::task<sql_result<std::optional<tv::storage::column_batch>>> next() override {
        auto r = co_await _inner->next();
        if (r && *r) {
            std::vector<tv::storage::column_vector> columns{(*r)->column(0)};
            co_return std::optional<tv::storage::column_batch>(tv::storage::column_batch(_schema, std::move(columns)));
        }
        co_return r;
    }

private:
    std::unique_ptr<batch_source> _inner;
    std::vector<column_desc> _schema;
};

}  // namespace

TEST(query_bench, DISABLED_insert_select_expressions) {
    const char* env = std::getenv("TV_BENCH_ROWS");
    const int64_t n = env != nullptr ? std::atoll(env) : 10000000;
    const std::vector<column_desc> target = {col("id", "BIGINT", false), col("twice", "BIGINT", false),
                                             col("name", "VARCHAR(64)", false), col("bucket", "INT", false)};
    for (int round = 0; round < 3; ++round) {
        session s;
        auto source = std::make_unique<renamed>(make_generate_series(1, n, 1));
        auto plan = plan_select(
            parse_select("SELECT id, id * 2, concat('name-', CAST(id AS VARCHAR)), id % 100 FROM g"), source->schema(),
            "g", s);
        ASSERT_TRUE(plan.has_value());
        cursor rows = (*plan)->open(std::move(source));
        uint64_t total_rows = 0;
        uint64_t bytes = 0;
        auto start = std::chrono::steady_clock::now();
        for (;;) {
            auto r = run_inline(rows->next());
            ASSERT_TRUE(r.has_value());
            auto& b = *r;
            if (!b) {
                break;
            }
            auto cast = cast_batch(std::move(*b), target, true);
            ASSERT_TRUE(cast.has_value());
            const auto& out = cast->rows;
            total_rows += out.num_rows();
            bytes += out.num_rows() * (8 + 8 + 4) + out.column(2).bytes().size();
        }
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("round %d: %llu rows in %.3f s: %.1f M rows/s, %.1f MB/s of column data\n", round,
                    static_cast<unsigned long long>(total_rows), seconds, total_rows / seconds / 1e6,
                    bytes / seconds / 1e6);
        EXPECT_EQ(total_rows, static_cast<uint64_t>(n));
    }
}

TEST(query_bench, DISABLED_group_by_and_order_by) {
    const char* queries[] = {
        "SELECT id % 100 AS k, COUNT(*), SUM(id), MAX(id) FROM g GROUP BY k",
        "SELECT COUNT(DISTINCT id % 100000) FROM g",
        "SELECT id FROM g WHERE id % 7 = 3 AND id BETWEEN 1000 AND 9000000",
        "SELECT id FROM g ORDER BY id % 1000 DESC, id LIMIT 10",
    };
    for (const char* sql : queries) {
        session s;
        auto source = std::make_unique<renamed>(make_generate_series(1, 10000000, 1));
        auto plan = plan_select(parse_select(sql), source->schema(), "g", s);
        ASSERT_TRUE(plan.has_value());
        cursor rows = (*plan)->open(std::move(source));
        auto start = std::chrono::steady_clock::now();
        uint64_t out = 0;
        for (;;) {
            auto r = run_inline(rows->next());
            ASSERT_TRUE(r.has_value());
            auto& b = *r;
            if (!b) {
                break;
            }
            out += b->num_rows();
        }
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("%.1f M input rows/s (%llu out): %s\n", 10.0 / seconds, static_cast<unsigned long long>(out), sql);
    }
}
