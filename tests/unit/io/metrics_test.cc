// SPDX-License-Identifier: Apache-2.0
// Metrics: counting from several threads, histogram buckets, and the text exposition format
// (escaping of label values and help, cumulative buckets ending in +Inf, _sum and _count).
#include "io/metrics.hh"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace tv::io::metrics {
namespace {

TEST(metrics, label_values_are_escaped) {
    EXPECT_EQ(escape_label_value("plain"), "plain");
    EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
    EXPECT_EQ(escape_label_value("say \"hi\""), "say \\\"hi\\\"");
    EXPECT_EQ(escape_label_value("two\nlines"), "two\\nlines");
    EXPECT_EQ(escape_label_value("caf\xc3\xa9"), "caf\xc3\xa9") << "UTF-8 passes";
    // Not UTF-8: the byte becomes the text \xFF, its backslash escaped like any other.
    EXPECT_EQ(escape_label_value("db\xff"), "db\\\\xFF");
}

TEST(metrics, values_in_the_format) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(1.5), "1.5");
    EXPECT_EQ(format_value(0.00025), "0.00025");
    EXPECT_EQ(format_value(1e20), "1e+20");
    EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
    EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
    EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(metrics, sample_lines) {
    text_writer out;
    out.family("tv_jobs", "gauge", "Jobs.\nSecond line with a \\ and \"quotes\".");
    out.sample("tv_jobs", {}, int64_t{-2});
    out.sample("tv_jobs", {{"db", "sales \"eu\""}, {"label", "l\\1"}}, uint64_t{7});
    out.sample("tv_rate", {{"db", "d"}}, 2.5);
    EXPECT_EQ(out.text(),
              "# HELP tv_jobs Jobs.\\nSecond line with a \\\\ and \"quotes\".\n"
              "# TYPE tv_jobs gauge\n"
              "tv_jobs -2\n"
              "tv_jobs{db=\"sales \\\"eu\\\"\",label=\"l\\\\1\"} 7\n"
              "tv_rate{db=\"d\"} 2.5\n");
}

TEST(metrics, histogram_buckets_are_cumulative) {
    histogram h({0.1, 1, 10});
    for (double v : {0.05, 0.1, 0.5, 0.7, 5.0, 100.0}) {
        h.observe(v);
    }
    auto r = h.read();
    EXPECT_EQ(r.cumulative, (std::vector<uint64_t>{2, 4, 5, 6})) << "0.1 counts in le=0.1";
    EXPECT_EQ(r.count, 6u);
    EXPECT_DOUBLE_EQ(r.sum, 106.35);

    text_writer out;
    out.histogram_samples("tv_wait_seconds", {{"op", "Put"}}, h);
    EXPECT_EQ(out.text(),
              "tv_wait_seconds_bucket{op=\"Put\",le=\"0.1\"} 2\n"
              "tv_wait_seconds_bucket{op=\"Put\",le=\"1\"} 4\n"
              "tv_wait_seconds_bucket{op=\"Put\",le=\"10\"} 5\n"
              "tv_wait_seconds_bucket{op=\"Put\",le=\"+Inf\"} 6\n"
              "tv_wait_seconds_sum{op=\"Put\"} 106.35\n"
              "tv_wait_seconds_count{op=\"Put\"} 6\n");
}

TEST(metrics, registry_writes_families_in_order) {
    registry reg;
    auto& requests = reg.add_counter("tv_requests_total", "Requests sent.", {"op", "code"});
    auto& open = reg.add_gauge("tv_open", "Open things.");
    auto& wait = reg.add_histogram("tv_wait_seconds", "Waits.", {}, {1});
    requests.with({"Put", "200"}).add(3);
    requests.with({"Get", "404"}).add();
    requests.with({"Put", "200"}).add();
    gauge::hold held(open.with({}));
    wait.with({}).observe(0.5);

    text_writer out;
    reg.write(out);
    EXPECT_EQ(out.text(),
              "# HELP tv_requests_total Requests sent.\n"
              "# TYPE tv_requests_total counter\n"
              "tv_requests_total{op=\"Get\",code=\"404\"} 1\n"
              "tv_requests_total{op=\"Put\",code=\"200\"} 4\n"
              "# HELP tv_open Open things.\n"
              "# TYPE tv_open gauge\n"
              "tv_open 1\n"
              "# HELP tv_wait_seconds Waits.\n"
              "# TYPE tv_wait_seconds histogram\n"
              "tv_wait_seconds_bucket{le=\"1\"} 1\n"
              "tv_wait_seconds_bucket{le=\"+Inf\"} 1\n"
              "tv_wait_seconds_sum 0.5\n"
              "tv_wait_seconds_count 1\n");
}

TEST(metrics, a_family_without_labels_shows_zero_before_any_count) {
    registry reg;
    reg.add_counter("tv_things_total", "Things.");
    reg.add_counter("tv_kinds_total", "Kinds.", {"kind"});
    text_writer out;
    reg.write(out);
    EXPECT_EQ(out.text(),
              "# HELP tv_things_total Things.\n# TYPE tv_things_total counter\ntv_things_total 0\n"
              "# HELP tv_kinds_total Kinds.\n# TYPE tv_kinds_total counter\n");
}

TEST(metrics, counts_from_many_threads_add_up) {
    registry reg;
    auto& requests = reg.add_counter("tv_requests_total", "Requests.", {"op"});
    auto& latency = reg.add_histogram("tv_latency_seconds", "Latency.", {"op"}, {0.5});
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10'000; ++i) {
                requests.with({t % 2 == 0 ? "Put" : "Get"}).add();
                latency.with({"Put"}).observe(i % 2 == 0 ? 0.25 : 1.0);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(requests.with({"Put"}).value(), 20'000u);
    EXPECT_EQ(requests.with({"Get"}).value(), 20'000u);
    auto r = latency.with({"Put"}).read();
    EXPECT_EQ(r.cumulative, (std::vector<uint64_t>{20'000, 40'000}));
    EXPECT_DOUBLE_EQ(r.sum, 20'000 * 0.25 + 20'000 * 1.0);
}

}  // namespace
}  // namespace tv::io::metrics
