// SPDX-License-Identifier: Apache-2.0
// Metrics any layer counts into (counters, gauges, latency histograms; one relaxed atomic per
// update, so loops on every thread count without a lock), and the Prometheus text exposition
// format 0.0.4 they are scraped in. The process registry holds what lower layers count (S3
// requests, journal fsyncs, connections); numbers that already live elsewhere (jobs, the
// buffer pool) are written at scrape time by their owner through the same text_writer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tv::io::metrics {

class counter {
public:
    void add(uint64_t n = 1) noexcept { _value.fetch_add(n, std::memory_order_relaxed); }
    uint64_t value() const noexcept { return _value.load(std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> _value{0};
};

class gauge {
public:
    void add(int64_t n) noexcept { _value.fetch_add(n, std::memory_order_relaxed); }
    void set(int64_t n) noexcept { _value.store(n, std::memory_order_relaxed); }
    int64_t value() const noexcept { return _value.load(std::memory_order_relaxed); }

    /// Adds one for as long as it lives: an open connection.
    class hold {
    public:
        explicit hold(gauge& g) noexcept : _gauge(g) { _gauge.add(1); }
        ~hold() { _gauge.add(-1); }
        hold(const hold&) = delete;
        hold& operator=(const hold&) = delete;

    private:
        gauge& _gauge;
    };

private:
    std::atomic<int64_t> _value{0};
};

/// Observations counted into buckets by upper bound (`le`), plus their sum.
class histogram {
public:
    /// `bounds`: increasing upper bounds; +Inf is implied.
    explicit histogram(std::vector<double> bounds);

    void observe(double value) noexcept;

    struct reading {
        std::vector<uint64_t> cumulative;  ///< per bound, then +Inf (which equals `count`)
        uint64_t count = 0;
        double sum = 0;
    };
    /// Cumulative counts as the format wants them; taken from the buckets alone, so the +Inf
    /// bucket and `count` agree even while other threads observe.
    reading read() const;
    const std::vector<double>& bounds() const noexcept { return _bounds; }

private:
    std::vector<double> _bounds;
    std::unique_ptr<std::atomic<uint64_t>[]> _buckets;  // one per bound, then the overflow
    std::atomic<double> _sum{0};
};

/// Latency bounds in seconds, from 100 us (an fsync on good flash) to 1 min (a slow part upload).
std::vector<double> latency_bounds_seconds();

struct label {
    std::string_view name;
    std::string_view value;
};

/// Builds an exposition: each family's HELP and TYPE, then its samples. Label values and help
/// texts are escaped as the format requires, so user names (labels, databases) can go in as
/// they are.
class text_writer {
public:
    /// `type`: "counter", "gauge" or "histogram".
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const std::vector<label>& labels, double value);
    void sample(std::string_view name, const std::vector<label>& labels, uint64_t value);
    void sample(std::string_view name, const std::vector<label>& labels, int64_t value);
    /// `name`_bucket{...,le}, `name`_sum and `name`_count.
    void histogram_samples(std::string_view name, const std::vector<label>& labels, const histogram& h);

    const std::string& text() const noexcept { return _out; }
    std::string take() noexcept { return std::move(_out); }

private:
    void series(std::string_view name, const std::vector<label>& labels);
    std::string _out;
};

/// A label value in the format's escaping (backslash, double quote, newline); bytes that are
/// not valid UTF-8 are written as the text "\xNN" so the line stays valid.
std::string escape_label_value(std::string_view value);

/// A number as the format writes it: integers exactly, "+Inf", "-Inf", "NaN".
std::string format_value(double value);

/// One metric per combination of label values, created on first use and kept for the
/// process's life (label values must come from a small set: S3 operations, status codes).
template <class Metric>
class family {
public:
    /// A family without labels has its one metric from the start.
    family(std::string name, std::string help, std::vector<std::string> label_names,
           std::function<std::unique_ptr<Metric>()> make);

    /// The metric for these label values (one per label name, in order).
    Metric& with(const std::vector<std::string_view>& values);

    const std::string& name() const noexcept { return _name; }
    const std::string& help() const noexcept { return _help; }
    /// Calls `f(labels, metric)` for every metric, in label order.
    void each(const std::function<void(const std::vector<label>&, const Metric&)>& f) const;

private:
    struct child {
        std::vector<std::string> values;
        std::unique_ptr<Metric> metric;
    };
    std::string _name;
    std::string _help;
    std::vector<std::string> _label_names;
    std::function<std::unique_ptr<Metric>()> _make;
    mutable std::shared_mutex _mutex;
    std::map<std::string, child> _children;  // by the values joined with '\0'
};

/// Families in registration order, written together.
class registry {
public:
    family<counter>& add_counter(std::string name, std::string help, std::vector<std::string> label_names = {});
    family<gauge>& add_gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
    family<histogram>& add_histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                     std::vector<double> bounds);

    void write(text_writer& out) const;

private:
    struct entry {
        std::unique_ptr<family<counter>> counters;
        std::unique_ptr<family<gauge>> gauges;
        std::unique_ptr<family<histogram>> histograms;
    };
    mutable std::mutex _mutex;
    std::vector<entry> _families;
};

/// The process's registry: lower layers register into it when their file is initialised.
registry& process_registry();

}  // namespace tv::io::metrics
