// SPDX-License-Identifier: Apache-2.0
// The SELECT executor: a cursor that streams batches through WHERE, projection, DISTINCT and
// LIMIT (reading no further than LIMIT needs), or for aggregates and ORDER BY consumes its
// source first; sorting with NULLs first ascending and last descending; text results.
#include "sql/query/aggregate.hh"
#include "sql/expression/eval_vector.hh"
#include "storage/values.hh"

#include <xxhash.h>

#include <algorithm>
#include <numeric>
#include <unordered_set>

namespace tv::sql {

namespace {

using storage::column_batch;
using storage::column_desc;
using storage::column_vector;
using next_result = sql_result<std::optional<column_batch>>;

struct key_hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return XXH3_64bits(s.data(), s.size()); }
};

/// The rows of `in` where `predicate` is TRUE (the same batch when all are).
sql_result<column_batch> filter(const expr_ptr& predicate, column_batch in) {
    if (!predicate || in.num_rows() == 0) {
        return in;
    }
    auto v = predicate->eval(in);
    if (!v) {
        return v.error();
    }
    std::vector<uint32_t> rows = true_rows(*v, in.num_rows());
    if (rows.size() == in.num_rows()) {
        return in;
    }
    return vec::gather_batch(in, rows);
}

sql_result<column_batch> project(const plan_state& p, const column_batch& in) {
    std::vector<column_vector> columns;
    columns.reserve(p.projections.size());
    for (const auto& e : p.projections) {
        auto v = e->eval(in);
        if (!v) {
            return v.error();
        }
        columns.push_back((std::move(*v)).materialize(in.num_rows()));
    }
    return column_batch(p.projected_schema, std::move(columns));
}

using slot_compare = int (*)(const column_vector&, size_t, size_t);

template <class T>
int compare_typed(const column_vector& c, size_t a, size_t b) {
    if constexpr (vec::is_bytes<T>) {
        int r = c.string_at(a).compare(c.string_at(b));
        return r < 0 ? -1 : r > 0 ? 1 : 0;
    } else {
        auto v = c.values<T>();
        return v[a] < v[b] ? -1 : v[b] < v[a] ? 1 : 0;
    }
}

/// Row order by the sort keys: NULL is the smallest value, so it comes first ascending and last
/// descending (StarRocks' default); ties keep input order.
std::vector<uint32_t> sorted_rows(const column_batch& in, const std::vector<sort_key>& keys, size_t keep) {
    std::vector<uint32_t> idx(in.num_rows());
    std::iota(idx.begin(), idx.end(), 0u);
    struct key {
        const column_vector* column;
        slot_compare cmp;
        bool descending;
    };
    std::vector<key> ks;
    for (const auto& k : keys) {
        const column_vector& c = in.column(k.column);
        slot_compare cmp = vec::dispatch(c.type(), [](auto tag) -> slot_compare {
            return &compare_typed<typename decltype(tag)::type>;
        });
        ks.push_back({&c, cmp, k.descending});
    }
    auto less = [&](uint32_t a, uint32_t b) {
        for (const auto& k : ks) {
            bool an = k.column->is_null(a);
            bool bn = k.column->is_null(b);
            int c = 0;
            if (an || bn) {
                c = an == bn ? 0 : an ? -1 : 1;
            } else {
                c = k.cmp(*k.column, a, b);
            }
            if (c != 0) {
                return k.descending ? c > 0 : c < 0;
            }
        }
        return a < b;
    };
    if (keep < idx.size()) {
        std::partial_sort(idx.begin(), idx.begin() + static_cast<ptrdiff_t>(keep), idx.end(), less);
        idx.resize(keep);
    } else {
        std::sort(idx.begin(), idx.end(), less);
    }
    return idx;
}

/// What a batch holds in memory, near enough for a memory limit.
int64_t batch_bytes(const column_batch& b) {
    int64_t bytes = 0;
    for (size_t c = 0; c < b.num_columns(); ++c) {
        bytes += static_cast<int64_t>(b.column(c).block_bytes());
    }
    return bytes;
}

/// What one DISTINCT key costs beyond its bytes: node, string, bucket.
constexpr int64_t seen_entry_overhead = 64;

column_batch concat_batches(const std::vector<column_desc>& schema, const std::vector<column_batch>& parts) {
    std::vector<column_vector> columns;
    for (size_t c = 0; c < schema.size(); ++c) {
        std::vector<const column_vector*> pieces;
        for (const auto& b : parts) {
            pieces.push_back(&b.column(c));
        }
        columns.push_back(vec::concat(pieces, storage::physical_of(schema[c].type.kind), schema[c].nullable));
    }
    return column_batch(schema, std::move(columns));
}

class query_cursor final : public batch_source {
public:
    query_cursor(std::shared_ptr<const plan_state> plan, std::unique_ptr<batch_source> source, query_guard* guard)
        : _plan(std::move(plan)), _source(std::move(source)), _guard(guard), _charge(guard) {}

    const std::vector<column_desc>& schema() const override { return _plan->output_schema; }

    io::task<next_result> next() override {
        const plan_state& p = *_plan;
        if (_done || (p.limit && _emitted >= p.limit->count)) {
            _done = true;
            co_return std::optional<column_batch>{};
        }
        if (p.aggregate || !p.order.empty()) {
            if (!_result) {
                auto materialized = co_await materialize();
                if (!materialized) {
                    co_return materialized.error();
                }
            }
            co_return emit_materialized();
        }
        for (;;) {
            // A yield per batch also unwinds the stack: without guaranteed tail calls (debug
            // builds), sources that finish synchronously would otherwise nest frames per batch.
            auto alive = co_await between_batches(_guard);
            if (!alive) {
                co_return alive.error();
            }
            auto r = co_await _source->next();
            if (!r) {
                co_return r.error();
            }
            auto& batch = *r;
            if (!batch) {
                _done = true;
                co_return std::optional<column_batch>{};
            }
            auto out = stream(std::move(*batch));
            if (!out) {
                co_return out.error();
            }
            if (auto charged = account(); !charged) {
                co_return charged.error();
            }
            auto& rows = *out;
            if (rows.num_rows() > 0) {
                co_return std::optional<column_batch>(std::move(rows));
            }
            if (_done) {
                co_return std::optional<column_batch>{};
            }
        }
    }

private:
    /// Charges what the cursor holds now (DISTINCT keys, rows waiting for the sort, and the
    /// aggregator's groups) to the guard.
    sql_result<void> account(int64_t aggregate_bytes = 0) {
        return _charge.set(_seen_bytes + _pending_bytes + aggregate_bytes);
    }

    /// WHERE, HAVING-as-filter and projection of one source batch.
    sql_result<column_batch> filtered_projection(column_batch in) {
        auto w = filter(_plan->where, std::move(in));
        if (!w) {
            return w;
        }
        auto f = filter(_plan->filter, std::move(*w));
        if (!f) {
            return f;
        }
        return project(*_plan, *f);
    }

    /// Keeps the rows whose visible values were not seen before.
    column_batch distinct(column_batch in) {
        std::vector<uint32_t> keep;
        std::string key;
        for (size_t i = 0; i < in.num_rows(); ++i) {
            key.clear();
            for (size_t c = 0; c < _plan->visible; ++c) {
                vec::append_key(in.column(c), i, key);
            }
            if (_seen.find(std::string_view(key)) == _seen.end()) {
                _seen.insert(key);
                _seen_bytes += static_cast<int64_t>(key.size()) + seen_entry_overhead;
                keep.push_back(static_cast<uint32_t>(i));
            }
        }
        return keep.size() == in.num_rows() ? std::move(in) : vec::gather_batch(in, keep);
    }

    /// OFFSET and LIMIT over streamed rows.
    column_batch limit(column_batch in) {
        if (!_plan->limit) {
            return in;
        }
        const size_t rows = in.num_rows();
        size_t skip = static_cast<size_t>(std::min<uint64_t>(_plan->limit->offset - _skipped, rows));
        _skipped += skip;
        size_t take = static_cast<size_t>(std::min<uint64_t>(rows - skip, _plan->limit->count - _emitted));
        _emitted += take;
        if (_emitted >= _plan->limit->count) {
            _done = true;  // no further source batch is read
        }
        if (skip == 0 && take == rows) {
            return in;
        }
        return vec::slice_batch(in, skip, take);
    }

    sql_result<column_batch> stream(column_batch in) {
        auto projected = filtered_projection(std::move(in));
        if (!projected) {
            return projected;
        }
        column_batch rows = std::move(*projected);
        if (_plan->distinct) {
            rows = distinct(std::move(rows));
        }
        return limit(std::move(rows));
    }

    /// Rows the sort must keep: OFFSET + LIMIT when there is a limit.
    size_t wanted() const {
        if (!_plan->limit) {
            return SIZE_MAX;
        }
        uint64_t w = _plan->limit->offset + _plan->limit->count;
        return w < _plan->limit->offset ? SIZE_MAX : static_cast<size_t>(std::min<uint64_t>(w, SIZE_MAX));
    }

    /// Adds projected rows to what will be sorted, cutting it down to the top rows whenever it
    /// grows well past what LIMIT needs.
    void collect(column_batch rows) {
        _pending_rows += rows.num_rows();
        _pending_bytes += batch_bytes(rows);
        _pending.push_back(std::move(rows));
        size_t keep = wanted();
        if (keep != SIZE_MAX && _pending_rows > std::max(2 * keep, batch_rows * 4)) {
            column_batch all = concat_batches(_plan->projected_schema, _pending);
            auto idx = sorted_rows(all, _plan->order, keep);
            _pending.clear();
            _pending.push_back(vec::gather_batch(all, idx));
            _pending_rows = idx.size();
            _pending_bytes = batch_bytes(_pending.back());
        }
    }

    io::task<sql_result<void>> materialize() {
        const plan_state& p = *_plan;
        std::optional<aggregator> agg;
        if (p.aggregate) {
            agg.emplace(p);
        }
        for (;;) {
            // A yield per batch also unwinds the stack: without guaranteed tail calls (debug
            // builds), sources that finish synchronously would otherwise nest frames per batch.
            auto alive = co_await between_batches(_guard);
            if (!alive) {
                co_return alive.error();
            }
            auto r = co_await _source->next();
            if (!r) {
                co_return r.error();
            }
            auto& batch = *r;
            if (!batch) {
                break;
            }
            if (agg) {
                auto w = filter(p.where, std::move(*batch));
                if (!w) {
                    co_return w.error();
                }
                auto added = agg->add(*w);
                if (!added) {
                    co_return added.error();
                }
                if (auto charged = account(agg->memory_bytes()); !charged) {
                    co_return charged.error();
                }
                continue;
            }
            auto projected = filtered_projection(std::move(*batch));
            if (!projected) {
                co_return projected.error();
            }
            column_batch rows = std::move(*projected);
            collect(p.distinct ? distinct(std::move(rows)) : std::move(rows));
            if (auto charged = account(); !charged) {
                co_return charged.error();
            }
        }
        if (agg) {
            auto grouped = agg->finish();
            if (!grouped) {
                co_return grouped.error();
            }
            auto kept = filter(p.having, std::move(*grouped));
            if (!kept) {
                co_return kept.error();
            }
            auto projected = project(p, *kept);
            if (!projected) {
                co_return projected.error();
            }
            column_batch rows = std::move(*projected);
            collect(p.distinct ? distinct(std::move(rows)) : std::move(rows));
        }
        column_batch all = _pending.size() == 1 ? std::move(_pending[0]) : concat_batches(p.projected_schema, _pending);
        _pending.clear();
        std::vector<uint32_t> idx;
        if (!p.order.empty()) {
            idx = sorted_rows(all, p.order, wanted());
        } else {
            idx.resize(all.num_rows());
            std::iota(idx.begin(), idx.end(), 0u);
        }
        size_t offset = p.limit ? static_cast<size_t>(std::min<uint64_t>(p.limit->offset, idx.size())) : 0;
        size_t count = idx.size() - offset;
        if (p.limit) {
            count = static_cast<size_t>(std::min<uint64_t>(count, p.limit->count));
        }
        std::span<const uint32_t> chosen(idx.data() + offset, count);
        std::vector<column_vector> columns;
        for (size_t c = 0; c < p.visible; ++c) {
            columns.push_back(vec::gather(all.column(c), chosen));
        }
        _result.emplace(p.output_schema, std::move(columns));
        co_return sql_result<void>{};
    }

    next_result emit_materialized() {
        const size_t rows = _result->num_rows();
        if (_position >= rows) {
            _done = true;
            return std::optional<column_batch>{};
        }
        size_t count = std::min(batch_rows, rows - _position);
        column_batch out = (_position == 0 && count == rows) ? std::move(*_result)
                                                            : vec::slice_batch(*_result, _position, count);
        _position += count;
        if (_position >= rows) {
            _done = true;
        }
        return std::optional<column_batch>(std::move(out));
    }

    std::shared_ptr<const plan_state> _plan;
    std::unique_ptr<batch_source> _source;
    query_guard* _guard;
    memory_charge _charge;
    int64_t _seen_bytes = 0;
    int64_t _pending_bytes = 0;
    bool _done = false;
    uint64_t _skipped = 0;
    uint64_t _emitted = 0;
    std::unordered_set<std::string, key_hash, std::equal_to<>> _seen;
    std::vector<column_batch> _pending;
    size_t _pending_rows = 0;
    std::optional<column_batch> _result;
    size_t _position = 0;
};

class memory_source final : public batch_source {
public:
    memory_source(std::vector<column_desc> schema, std::vector<column_batch> batches)
        : _schema(std::move(schema)), _batches(std::move(batches)) {}
    const std::vector<column_desc>& schema() const override { return _schema; }
    io::task<next_result> next() override {
        if (_next >= _batches.size()) {
            co_return std::optional<column_batch>{};
        }
        co_return std::optional<column_batch>(std::move(_batches[_next++]));
    }

private:
    std::vector<column_desc> _schema;
    std::vector<column_batch> _batches;
    size_t _next = 0;
};

}  // namespace

cursor open_cursor(std::shared_ptr<const plan_state> plan, std::unique_ptr<batch_source> source,
                   query_guard* guard) {
    return std::make_unique<query_cursor>(std::move(plan), std::move(source), guard);
}

std::unique_ptr<batch_source> make_memory_source(std::vector<column_desc> schema, std::vector<column_batch> batches) {
    return std::make_unique<memory_source>(std::move(schema), std::move(batches));
}

column_kind column_kind_of(const storage::column_type& t) {
    using storage::type_kind;
    switch (t.kind) {
    case type_kind::boolean:
    case type_kind::tinyint: return column_kind::tinyint;
    case type_kind::smallint: return column_kind::smallint;
    case type_kind::int_: return column_kind::int_;
    case type_kind::bigint: return column_kind::bigint;
    case type_kind::largeint: return column_kind::largeint;
    case type_kind::float_: return column_kind::float_;
    case type_kind::double_: return column_kind::double_;
    case type_kind::decimal: return column_kind::decimal;
    case type_kind::date: return column_kind::date;
    case type_kind::datetime: return column_kind::datetime;
    default: return column_kind::varchar;
    }
}

column_meta column_meta_of(const storage::column_desc& c) {
    column_meta m{c.name, column_kind_of(c.type)};
    if (c.type.kind == storage::type_kind::decimal) {
        m.decimals = static_cast<uint8_t>(c.type.scale);
        m.length = static_cast<uint32_t>(c.type.precision + 2);
    }
    m.nullable = c.nullable;
    return m;
}

io::task<sql_result<result_set>> to_result(batch_source& rows, query_guard* guard) {
    result_set rs;
    const auto schema = rows.schema();
    for (const auto& c : schema) {
        rs.columns.push_back(column_meta_of(c));
    }
    memory_charge charge(guard);
    for (;;) {
        // Whatever else runs on this loop (scans, transfers, other statements) gets a turn.
        auto alive = co_await between_batches(guard);
        if (!alive) {
            co_return alive.error();
        }
        auto r = co_await rows.next();
        if (!r) {
            co_return r.error();
        }
        auto& batch = *r;
        if (!batch) {
            break;
        }
        int64_t bytes = static_cast<int64_t>(batch->num_rows() * (sizeof(row) + schema.size() * sizeof(cell)));
        for (size_t i = 0; i < batch->num_rows(); ++i) {
            row out;
            out.reserve(schema.size());
            for (size_t c = 0; c < schema.size(); ++c) {
                const column_vector& col = batch->column(c);
                if (col.is_null(i)) {
                    out.emplace_back(std::nullopt);
                } else {
                    out.emplace_back(storage::format_typed(schema[c].type, col.get(i)));
                }
            }
            for (const auto& value : out) {
                // Short strings live inside the std::string itself.
                bytes += value && value->size() >= sizeof(std::string) ? static_cast<int64_t>(value->size()) : 0;
            }
            rs.rows.push_back(std::move(out));
        }
        if (auto charged = charge.add(bytes); !charged) {
            co_return charged.error();
        }
    }
    co_return rs;
}

io::task<sql_result<result_set>> to_result(cursor rows) {
    auto r = co_await to_result(*rows);
    co_return r;
}

}  // namespace tv::sql
