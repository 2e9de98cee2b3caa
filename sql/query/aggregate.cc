// SPDX-License-Identifier: Apache-2.0
// The hash aggregator: group ids from an unordered map keyed by the encoded key values, and
// per aggregate a column-shaped state (counts, sums, extremes, DISTINCT sets) indexed by group.
#include "sql/query/aggregate.hh"

#include "sql/expression/cast_detail.hh"
#include "sql/expression/eval_vector.hh"

#include <xxhash.h>

#include <unordered_map>
#include <unordered_set>

namespace tv::sql {

namespace {

using storage::column_vector;
using storage::type_kind;
using vec::int128;

struct key_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }
};

using key_map = std::unordered_map<std::string, uint32_t, key_hash, std::equal_to<>>;
using key_set = std::unordered_set<std::string, key_hash, std::equal_to<>>;

/// What one hash entry costs beyond its key's bytes: the node, the std::string, the bucket.
constexpr size_t hash_entry_overhead = 64;

enum class repr : uint8_t { none, i64, i128, f64, str };

sql_error overflow(std::string_view type, const std::string& text) {
    return make_error(errc::out_of_range, "{} value is out of range in '{}'", type, text);
}

/// One aggregate's running values, one slot per group.
struct agg_state {
    const aggregate_spec* spec = nullptr;
    repr how = repr::none;
    std::vector<int64_t> count;
    std::vector<int64_t> i64;
    std::vector<int128> i128;
    std::vector<double> f64;
    std::vector<std::string> str;
    std::vector<uint8_t> has;
    std::vector<key_set> seen;
    int64_t seen_bytes = 0;  // what the DISTINCT sets hold, for the query's memory limit

    void resize(size_t groups) {
        count.resize(groups);
        has.resize(groups);
        switch (how) {
        case repr::i64: i64.resize(groups); break;
        case repr::i128: i128.resize(groups); break;
        case repr::f64: f64.resize(groups); break;
        case repr::str: str.resize(groups); break;
        case repr::none: break;
        }
        if (spec->distinct) {
            seen.resize(groups);
        }
    }
};

repr representation(const aggregate_spec& spec) {
    if (spec.kind == aggregate_kind::count || spec.kind == aggregate_kind::count_star) {
        return repr::none;
    }
    auto p = storage::physical_of(spec.args[0]->type().kind);
    switch (p) {
    case storage::physical_type::bytes: return repr::str;
    case storage::physical_type::float32:
    case storage::physical_type::float64: return repr::f64;
    case storage::physical_type::int64:
        return spec.kind == aggregate_kind::sum ? repr::i64 : repr::i128;
    default: return repr::i128;
    }
}

/// Row `slot` of an argument in the state's representation. An overflow sets `status` to its
/// error; the first one is kept.
template <class T>
void update_value(agg_state& s, uint32_t g, T v, sql_result<void>& status) {
    const aggregate_kind k = s.spec->kind;
    const bool first = s.has[g] == 0;
    s.has[g] = 1;
    ++s.count[g];
    if constexpr (vec::is_bytes<T>) {
        if (first || (k == aggregate_kind::min ? v < s.str[g] : v > s.str[g])) {
            s.str[g].assign(v);
        }
    } else if constexpr (std::is_floating_point_v<T>) {
        double x = static_cast<double>(v);
        if (k == aggregate_kind::sum || k == aggregate_kind::avg) {
            s.f64[g] += x;
        } else if (first || (k == aggregate_kind::min ? x < s.f64[g] : x > s.f64[g])) {
            s.f64[g] = x;
        }
    } else {
        if (s.how == repr::i64) {
            if (__builtin_add_overflow(s.i64[g], static_cast<int64_t>(v), &s.i64[g]) && status) {
                status = overflow("BIGINT", s.spec->text);
            }
            return;
        }
        auto x = static_cast<int128>(v);
        if (k == aggregate_kind::sum || k == aggregate_kind::avg) {
            if (__builtin_add_overflow(s.i128[g], x, &s.i128[g]) && status) {
                status = overflow(s.spec->type.kind == type_kind::decimal ? "DECIMAL" : "LARGEINT", s.spec->text);
            }
        } else if (first || (k == aggregate_kind::min ? x < s.i128[g] : x > s.i128[g])) {
            s.i128[g] = x;
        }
    }
}

/// Folds one batch of argument values into the states of their groups.
sql_result<void> update(agg_state& s, std::span<const value_vector> args, std::span<const uint32_t> gids) {
    const size_t n = gids.size();
    const aggregate_kind k = s.spec->kind;
    if (k == aggregate_kind::count_star) {
        for (uint32_t g : gids) {
            ++s.count[g];
        }
        return {};
    }
    auto all_present = [&](size_t i) {
        for (const auto& a : args) {
            if (a.is_null(i)) {
                return false;
            }
        }
        return true;
    };
    std::string key;
    auto is_new = [&](size_t i, uint32_t g) {
        if (!s.spec->distinct) {
            return true;
        }
        key.clear();
        for (const auto& a : args) {
            vec::append_key(a.column(), a.slot(i), key);
        }
        if (s.seen[g].find(std::string_view(key)) != s.seen[g].end()) {
            return false;
        }
        s.seen[g].insert(key);
        s.seen_bytes += static_cast<int64_t>(key.size() + hash_entry_overhead);
        return true;
    };
    if (k == aggregate_kind::count) {
        for (size_t i = 0; i < n; ++i) {
            if (all_present(i) && is_new(i, gids[i])) {
                ++s.count[gids[i]];
            }
        }
        return {};
    }
    sql_result<void> status;
    const value_vector& a = args[0];
    vec::dispatch(a.column().type(), [&](auto tag) {
        using T = typename decltype(tag)::type;
        for (size_t i = 0; i < n && status; ++i) {
            if (a.is_null(i) || !is_new(i, gids[i])) {
                continue;
            }
            if constexpr (vec::is_bytes<T>) {
                update_value<T>(s, gids[i], a.column().string_at(a.slot(i)), status);
            } else {
                update_value<T>(s, gids[i], a.column().values<T>()[a.slot(i)], status);
            }
        }
    });
    return status;
}

/// The result column of one aggregate over `groups` groups.
sql_result<column_vector> result_column(const agg_state& s, size_t groups) {
    const aggregate_spec& spec = *s.spec;
    if (spec.kind == aggregate_kind::count || spec.kind == aggregate_kind::count_star) {
        return column_vector::from_values<int64_t>(false, std::vector<int64_t>(s.count.begin(), s.count.end()), {});
    }
    const storage::column_type& t = spec.type;
    auto null_at = [&](size_t g) { return s.has[g] == 0; };
    if (spec.kind == aggregate_kind::avg) {
        if (t.kind == type_kind::decimal) {
            const int arg_scale = spec.args[0]->type().kind == type_kind::decimal ? spec.args[0]->type().scale : 0;
            vec::fixed_builder<int128> out(groups, true);
            for (size_t g = 0; g < groups; ++g) {
                if (null_at(g)) {
                    out.set_null(g);
                    continue;
                }
                int128 scaled = 0;
                if (!cast_detail::rescale(s.i128[g], arg_scale, t.scale, scaled)) {
                    return overflow("DECIMAL", spec.text);
                }
                out.values[g] = cast_detail::div_round(scaled, s.count[g]);
            }
            return out.finish();
        }
        vec::fixed_builder<double> out(groups, true);
        for (size_t g = 0; g < groups; ++g) {
            if (null_at(g)) {
                out.set_null(g);
            } else {
                double sum = s.how == repr::f64 ? s.f64[g] : static_cast<double>(s.i128[g]);
                out.values[g] = sum / static_cast<double>(s.count[g]);
            }
        }
        return out.finish();
    }
    return vec::dispatch(storage::physical_of(t.kind), [&](auto tag) -> sql_result<column_vector> {
        using T = typename decltype(tag)::type;
        if constexpr (vec::is_bytes<T>) {
            vec::string_builder out(groups, true);
            for (size_t g = 0; g < groups; ++g) {
                if (null_at(g)) {
                    out.append_null();
                } else {
                    out.append(s.str[g]);
                }
            }
            return out.finish();
        } else {
            vec::fixed_builder<T> out(groups, true);
            for (size_t g = 0; g < groups; ++g) {
                if (null_at(g)) {
                    out.set_null(g);
                } else if (s.how == repr::i64) {
                    out.values[g] = static_cast<T>(s.i64[g]);
                } else if (s.how == repr::f64) {
                    out.values[g] = static_cast<T>(s.f64[g]);
                } else {
                    if (t.kind == type_kind::decimal && !cast_detail::fits_precision(s.i128[g], 38)) {
                        return overflow("DECIMAL", spec.text);
                    }
                    out.values[g] = static_cast<T>(s.i128[g]);
                }
            }
            return out.finish();
        }
    });
}

}  // namespace

struct aggregator::impl {
    const plan_state& plan;
    key_map groups;
    std::vector<column_vector> keys;
    uint32_t group_count = 0;
    std::vector<agg_state> states;
    int64_t group_bytes = 0;  // keys in `groups` and `keys`

    explicit impl(const plan_state& p) : plan(p) {
        for (size_t i = 0; i < p.group_keys.size(); ++i) {
            keys.emplace_back(storage::physical_of(p.group_keys[i]->type().kind), p.group_keys[i]->nullable());
        }
        for (const auto& spec : p.aggregates) {
            agg_state s;
            s.spec = &spec;
            s.how = representation(spec);
            states.push_back(std::move(s));
        }
        if (p.group_keys.empty()) {
            grow(1);  // one group, present even when no row arrives
        }
    }

    void grow(uint32_t to) {
        group_count = to;
        for (auto& s : states) {
            if (s.count.size() < to) {
                s.resize(std::max<size_t>(to, s.count.size() * 2));
            }
        }
    }
};

aggregator::aggregator(const plan_state& plan) : _impl(std::make_unique<impl>(plan)) {}

aggregator::~aggregator() = default;

sql_result<void> aggregator::add(const storage::column_batch& rows) {
    impl& m = *_impl;
    const size_t n = rows.num_rows();
    std::vector<uint32_t> gids(n, 0);
    if (!m.plan.group_keys.empty()) {
        std::vector<value_vector> keys;
        for (const auto& k : m.plan.group_keys) {
            auto v = k->eval(rows);
            if (!v) {
                return v.error();
            }
            keys.push_back(std::move(*v));
        }
        std::string key;
        for (size_t i = 0; i < n; ++i) {
            key.clear();
            for (const auto& k : keys) {
                vec::append_key(k.column(), k.slot(i), key);
            }
            auto it = m.groups.find(std::string_view(key));
            if (it != m.groups.end()) {
                gids[i] = it->second;
                continue;
            }
            uint32_t g = m.group_count;
            m.groups.emplace(key, g);
            m.group_bytes += static_cast<int64_t>(2 * key.size() + hash_entry_overhead);
            for (size_t c = 0; c < keys.size(); ++c) {
                m.keys[c].append(keys[c].column().get(keys[c].slot(i)));
            }
            m.grow(g + 1);
            gids[i] = g;
        }
    }
    for (auto& s : m.states) {
        std::vector<value_vector> args;
        for (const auto& a : s.spec->args) {
            auto v = a->eval(rows);
            if (!v) {
                return v.error();
            }
            args.push_back(std::move(*v));
        }
        if (auto updated = update(s, args, gids); !updated) {
            return updated;
        }
    }
    return {};
}

int64_t aggregator::memory_bytes() const {
    const impl& m = *_impl;
    int64_t bytes = m.group_bytes;
    for (const auto& s : m.states) {
        // count, has and one value slot per group.
        bytes += s.seen_bytes + static_cast<int64_t>(s.count.size() * 32);
    }
    return bytes;
}

sql_result<storage::column_batch> aggregator::finish() {
    impl& m = *_impl;
    std::vector<column_vector> columns;
    for (auto& k : m.keys) {
        columns.push_back(std::move(k));
    }
    for (auto& s : m.states) {
        s.count.resize(m.group_count);
        auto c = result_column(s, m.group_count);
        if (!c) {
            return c.error();
        }
        columns.push_back(std::move(*c));
    }
    return storage::column_batch(m.plan.grouped_schema, std::move(columns));
}

}  // namespace tv::sql
