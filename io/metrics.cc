// SPDX-License-Identifier: Apache-2.0
// Metrics: atomic counting, families by label values, and the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "io/metrics.hh"

#include "io/printable.hh"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace tv::io::metrics {

histogram::histogram(std::vector<double> bounds)
    : _bounds(std::move(bounds)), _buckets(new std::atomic<uint64_t>[_bounds.size() + 1]) {
    for (size_t i = 0; i <= _bounds.size(); ++i) {
        _buckets[i].store(0, std::memory_order_relaxed);
    }
}

void histogram::observe(double value) noexcept {
    // `le`: a value equal to a bound belongs to that bound's bucket.
    auto bucket = static_cast<size_t>(std::lower_bound(_bounds.begin(), _bounds.end(), value) - _bounds.begin());
    _buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    _sum.fetch_add(value, std::memory_order_relaxed);
}

histogram::reading histogram::read() const {
    reading r;
    r.cumulative.reserve(_bounds.size() + 1);
    for (size_t i = 0; i <= _bounds.size(); ++i) {
        r.count += _buckets[i].load(std::memory_order_relaxed);
        r.cumulative.push_back(r.count);
    }
    r.sum = _sum.load(std::memory_order_relaxed);
    return r;
}

std::vector<double> latency_bounds_seconds() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
}

std::string escape_label_value(std::string_view value) {
    std::string readable = valid_utf8(value) ? std::string(value) : printable_excerpt(value, value.size());
    std::string out;
    out.reserve(readable.size());
    for (char c : readable) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '"': out += "\\\""; break;
        case '\n': out += "\\n"; break;
        default: out += c;
        }
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    return fmt::format("{}", value);
}

namespace {

/// HELP text escaping: backslash and newline only (quotes stay).
std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

void text_writer::family(std::string_view name, std::string_view type, std::string_view help) {
    _out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type);
}

void text_writer::series(std::string_view name, const std::vector<label>& labels) {
    _out += name;
    if (labels.empty()) {
        _out += ' ';
        return;
    }
    _out += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
        _out += fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", labels[i].name, escape_label_value(labels[i].value));
    }
    _out += "} ";
}

void text_writer::sample(std::string_view name, const std::vector<label>& labels, double value) {
    series(name, labels);
    _out += format_value(value);
    _out += '\n';
}

void text_writer::sample(std::string_view name, const std::vector<label>& labels, uint64_t value) {
    series(name, labels);
    _out += fmt::format("{}\n", value);
}

void text_writer::sample(std::string_view name, const std::vector<label>& labels, int64_t value) {
    series(name, labels);
    _out += fmt::format("{}\n", value);
}

void text_writer::histogram_samples(std::string_view name, const std::vector<label>& labels, const histogram& h) {
    histogram::reading r = h.read();
    std::string bucket_name = fmt::format("{}_bucket", name);
    std::vector<label> with_le = labels;
    with_le.push_back({"le", {}});
    for (size_t i = 0; i < r.cumulative.size(); ++i) {
        std::string le = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
        with_le.back().value = le;
        sample(bucket_name, with_le, r.cumulative[i]);
    }
    sample(fmt::format("{}_sum", name), labels, r.sum);
    sample(fmt::format("{}_count", name), labels, r.count);
}

template <class Metric>
family<Metric>::family(std::string name, std::string help, std::vector<std::string> label_names,
                       std::function<std::unique_ptr<Metric>()> make)
    : _name(std::move(name)), _help(std::move(help)), _label_names(std::move(label_names)), _make(std::move(make)) {
    if (_label_names.empty()) {
        with({});  // shown (as 0) from the start, not from the first count
    }
}

template <class Metric>
Metric& family<Metric>::with(const std::vector<std::string_view>& values) {
    std::string key;
    for (auto v : values) {
        key += v;
        key += '\0';
    }
    {
        std::shared_lock read(_mutex);
        if (auto it = _children.find(key); it != _children.end()) {
            return *it->second.metric;
        }
    }
    std::unique_lock write(_mutex);
    auto& slot = _children[key];
    if (!slot.metric) {
        slot.values.assign(values.begin(), values.end());
        slot.metric = _make();
    }
    return *slot.metric;
}

template <class Metric>
void family<Metric>::each(const std::function<void(const std::vector<label>&, const Metric&)>& f) const {
    std::shared_lock read(_mutex);
    std::vector<label> labels;
    for (const auto& [key, c] : _children) {
        labels.clear();
        for (size_t i = 0; i < _label_names.size() && i < c.values.size(); ++i) {
            labels.push_back({_label_names[i], c.values[i]});
        }
        f(labels, *c.metric);
    }
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

family<counter>& registry::add_counter(std::string name, std::string help, std::vector<std::string> label_names) {
    std::lock_guard lock(_mutex);
    auto f = std::make_unique<family<counter>>(std::move(name), std::move(help), std::move(label_names),
                                               [] { return std::make_unique<counter>(); });
    auto& added = *f;
    _families.push_back({std::move(f), nullptr, nullptr});
    return added;
}

family<gauge>& registry::add_gauge(std::string name, std::string help, std::vector<std::string> label_names) {
    std::lock_guard lock(_mutex);
    auto f = std::make_unique<family<gauge>>(std::move(name), std::move(help), std::move(label_names),
                                             [] { return std::make_unique<gauge>(); });
    auto& added = *f;
    _families.push_back({nullptr, std::move(f), nullptr});
    return added;
}

family<histogram>& registry::add_histogram(std::string name, std::string help, std::vector<std::string> label_names,
                                           std::vector<double> bounds) {
    std::lock_guard lock(_mutex);
    auto f = std::make_unique<family<histogram>>(std::move(name), std::move(help), std::move(label_names),
                                                 [bounds] { return std::make_unique<histogram>(bounds); });
    auto& added = *f;
    _families.push_back({nullptr, nullptr, std::move(f)});
    return added;
}

void registry::write(text_writer& out) const {
    std::lock_guard lock(_mutex);
    for (const auto& e : _families) {
        if (e.counters) {
            out.family(e.counters->name(), "counter", e.counters->help());
            e.counters->each([&](const std::vector<label>& l, const counter& c) {
                out.sample(e.counters->name(), l, c.value());
            });
        } else if (e.gauges) {
            out.family(e.gauges->name(), "gauge", e.gauges->help());
            e.gauges->each([&](const std::vector<label>& l, const gauge& g) {
                out.sample(e.gauges->name(), l, g.value());
            });
        } else {
            out.family(e.histograms->name(), "histogram", e.histograms->help());
            e.histograms->each([&](const std::vector<label>& l, const histogram& h) {
                out.histogram_samples(e.histograms->name(), l, h);
            });
        }
    }
}

registry& process_registry() {
    static registry r;
    return r;
}

}  // namespace tv::io::metrics
