// SPDX-License-Identifier: Apache-2.0
// The evaluator's runtime pieces: value_vector, the invariant check around every evaluation,
// and the column helpers (gather, broadcast, concatenation, keys, ordering).
#include "sql/expression/eval_vector.hh"

#include <fmt/format.h>

#include <stdexcept>

namespace tv::sql {

value_vector value_vector::borrow(const storage::column_vector& column, bool constant) {
    value_vector v;
    v._borrowed = &column;
    v._constant = constant;
    return v;
}

value_vector value_vector::own(storage::column_vector column, bool constant) {
    value_vector v;
    v._owned.emplace(std::move(column));
    v._constant = constant;
    return v;
}

storage::column_vector value_vector::materialize(size_t rows) && {
    if (_constant) {
        return vec::broadcast(column(), 0, rows, column().nullable());
    }
    if (_owned) {
        return std::move(*_owned);
    }
    const storage::column_vector* part = &column();
    return vec::concat(std::span<const storage::column_vector* const>(&part, 1), part->type(), part->nullable());
}

sql_result<value_vector> compiled_expr::eval(const storage::column_batch& in) const {
    auto r = run(in);
    if (r) {
        const value_vector* v = &*r;
        const auto& c = v->column();
        // Every producer must honour the compiled type: a mismatch is a bug here, not bad data.
        if (c.type() != storage::physical_of(_type.kind) || c.nullable() != _nullable ||
            (!v->constant() && c.size() != in.num_rows()) || (v->constant() && c.size() != 1)) {
            throw std::logic_error(fmt::format("expression of type {} produced a column of physical type {}, "
                                               "nullable {}, {} rows (constant {}) for {} rows",
                                               _type.to_sql(), static_cast<int>(c.type()), c.nullable(), c.size(),
                                               v->constant(), in.num_rows()));
        }
    }
    return r;
}

std::vector<uint32_t> true_rows(const value_vector& v, size_t rows) {
    std::vector<uint32_t> out;
    const auto& c = v.column();
    auto values = c.values<uint8_t>();
    auto nulls = c.nulls();
    if (v.constant()) {
        if (values[0] != 0 && !c.is_null(0)) {
            out.resize(rows);
            for (size_t i = 0; i < rows; ++i) {
                out[i] = static_cast<uint32_t>(i);
            }
        }
        return out;
    }
    out.reserve(rows);
    for (size_t i = 0; i < rows; ++i) {
        bool keep = values[i] != 0 && (nulls.empty() || nulls[i] == 0);
        if (keep) {
            out.push_back(static_cast<uint32_t>(i));
        }
    }
    return out;
}

namespace vec {

column_vector null_column(physical_type p, size_t n) {
    return dispatch(p, [&](auto t) {
        using T = typename decltype(t)::type;
        if constexpr (is_bytes<T>) {
            return column_vector::from_strings(true, std::vector<uint64_t>(n + 1, 0), {}, std::vector<uint8_t>(n, 1));
        } else {
            return column_vector::from_values<T>(true, std::vector<T>(n), std::vector<uint8_t>(n, 1));
        }
    });
}

column_vector broadcast(const column_vector& in, size_t slot, size_t n, bool nullable) {
    bool null = in.is_null(slot);
    if (null && !nullable) {
        throw std::logic_error("NULL broadcast into a column that is not nullable");
    }
    std::vector<uint8_t> nulls(nullable ? n : 0, null ? 1 : 0);
    return dispatch(in.type(), [&](auto t) {
        using T = typename decltype(t)::type;
        if constexpr (is_bytes<T>) {
            std::string_view s = in.string_at(slot);
            std::vector<uint64_t> offsets(n + 1);
            std::string bytes;
            bytes.reserve(s.size() * n);
            for (size_t i = 0; i < n; ++i) {
                bytes.append(s);
                offsets[i + 1] = bytes.size();
            }
            return column_vector::from_strings(nullable, std::move(offsets), std::move(bytes), std::move(nulls));
        } else {
            T value = in.values<T>()[slot];
            return column_vector::from_values<T>(nullable, std::vector<T>(n, value), std::move(nulls));
        }
    });
}

column_vector gather(const column_vector& in, std::span<const uint32_t> rows) {
    std::vector<uint8_t> nulls;
    if (in.nullable()) {
        nulls.resize(rows.size());
        auto src = in.nulls();
        for (size_t i = 0; i < rows.size(); ++i) {
            nulls[i] = src[rows[i]];
        }
    }
    return dispatch(in.type(), [&](auto t) {
        using T = typename decltype(t)::type;
        if constexpr (is_bytes<T>) {
            auto offsets = in.offsets();
            std::string_view bytes = in.bytes();
            size_t total = 0;
            for (uint32_t r : rows) {
                total += offsets[r + 1] - offsets[r];
            }
            std::vector<uint64_t> out_offsets(rows.size() + 1);
            std::string out;
            out.resize(total);
            size_t at = 0;
            for (size_t i = 0; i < rows.size(); ++i) {
                uint64_t len = offsets[rows[i] + 1] - offsets[rows[i]];
                std::memcpy(out.data() + at, bytes.data() + offsets[rows[i]], len);
                at += len;
                out_offsets[i + 1] = at;
            }
            return column_vector::from_strings(in.nullable(), std::move(out_offsets), std::move(out),
                                               std::move(nulls));
        } else {
            auto src = in.values<T>();
            std::vector<T> out(rows.size());
            for (size_t i = 0; i < rows.size(); ++i) {
                out[i] = src[rows[i]];
            }
            return column_vector::from_values<T>(in.nullable(), std::move(out), std::move(nulls));
        }
    });
}

column_vector with_nullability(column_vector in, bool nullable) {
    if (in.nullable() == nullable) {
        return in;
    }
    if (!nullable && in.null_count() != 0) {
        throw std::logic_error("a column holding NULL made not nullable");
    }
    const column_vector* part = &in;
    return concat(std::span<const column_vector* const>(&part, 1), in.type(), nullable);
}

column_vector concat(std::span<const column_vector* const> parts, physical_type p, bool nullable) {
    size_t rows = 0;
    for (const auto* c : parts) {
        rows += c->size();
    }
    std::vector<uint8_t> nulls;
    if (nullable) {
        nulls.reserve(rows);
        for (const auto* c : parts) {
            if (c->nullable()) {
                nulls.insert(nulls.end(), c->nulls().begin(), c->nulls().end());
            } else {
                nulls.resize(nulls.size() + c->size(), 0);
            }
        }
    } else {
        for (const auto* c : parts) {
            if (c->null_count() != 0) {
                throw std::logic_error("NULL concatenated into a column that is not nullable");
            }
        }
    }
    return dispatch(p, [&](auto t) {
        using T = typename decltype(t)::type;
        if constexpr (is_bytes<T>) {
            std::vector<uint64_t> offsets;
            offsets.reserve(rows + 1);
            offsets.push_back(0);
            std::string bytes;
            size_t total = 0;
            for (const auto* c : parts) {
                total += c->bytes().size();
            }
            bytes.reserve(total);
            for (const auto* c : parts) {
                uint64_t base = bytes.size();
                bytes.append(c->bytes());
                auto o = c->offsets();
                for (size_t i = 1; i < o.size(); ++i) {
                    offsets.push_back(base + o[i]);
                }
            }
            return column_vector::from_strings(nullable, std::move(offsets), std::move(bytes), std::move(nulls));
        } else {
            std::vector<T> out;
            out.reserve(rows);
            for (const auto* c : parts) {
                auto v = c->values<T>();
                out.insert(out.end(), v.begin(), v.end());
            }
            return column_vector::from_values<T>(nullable, std::move(out), std::move(nulls));
        }
    });
}

column_batch gather_batch(const column_batch& in, std::span<const uint32_t> rows) {
    std::vector<column_vector> columns;
    columns.reserve(in.num_columns());
    for (size_t i = 0; i < in.num_columns(); ++i) {
        columns.push_back(gather(in.column(i), rows));
    }
    return column_batch(in.schema(), std::move(columns));
}

column_batch slice_batch(const column_batch& in, size_t from, size_t count) {
    std::vector<uint32_t> rows(count);
    for (size_t i = 0; i < count; ++i) {
        rows[i] = static_cast<uint32_t>(from + i);
    }
    return gather_batch(in, rows);
}

column_batch copy_batch(const column_batch& in) {
    return slice_batch(in, 0, in.num_rows());
}

void append_key(const column_vector& c, size_t row, std::string& out) {
    if (c.is_null(row)) {
        out.push_back('\0');
        return;
    }
    out.push_back('\1');
    dispatch(c.type(), [&](auto t) {
        using T = typename decltype(t)::type;
        if constexpr (is_bytes<T>) {
            std::string_view s = c.string_at(row);
            auto len = static_cast<uint32_t>(s.size());
            out.append(reinterpret_cast<const char*>(&len), sizeof len);
            out.append(s);
        } else {
            T v = c.values<T>()[row];
            if constexpr (std::is_floating_point_v<T>) {
                if (v == 0) {
                    v = 0;  // -0.0 and 0.0 are one value
                }
            }
            out.append(reinterpret_cast<const char*>(&v), sizeof v);
        }
    });
}

int compare_slots(const column_vector& a, size_t i, const column_vector& b, size_t j) {
    return dispatch(a.type(), [&](auto t) -> int {
        using T = typename decltype(t)::type;
        if constexpr (is_bytes<T>) {
            int c = a.string_at(i).compare(b.string_at(j));
            return c < 0 ? -1 : c > 0 ? 1 : 0;
        } else {
            T x = a.values<T>()[i];
            T y = b.values<T>()[j];
            return x < y ? -1 : y < x ? 1 : 0;
        }
    });
}

std::vector<uint8_t> union_nulls(std::span<const value_vector* const> inputs, size_t n, bool nullable) {
    std::vector<uint8_t> out;
    if (!nullable) {
        return out;
    }
    out.assign(n, 0);
    for (const auto* in : inputs) {
        const auto& c = in->column();
        if (!c.nullable() || c.null_count() == 0) {
            continue;
        }
        if (in->constant()) {
            std::fill(out.begin(), out.end(), 1);
            continue;
        }
        auto src = c.nulls();
        for (size_t i = 0; i < n; ++i) {
            out[i] |= src[i];
        }
    }
    return out;
}

}  // namespace vec

}  // namespace tv::sql
