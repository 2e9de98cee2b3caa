// SPDX-License-Identifier: Apache-2.0
// Conversions from and to text: parsing with storage::parse_typed (the loaders' grammar), text
// with storage::format_typed (what clients are shown), and a direct path for the common
// integer <-> text cases that INSERT ... SELECT and Stream Load run per row.
#include "sql/expression/cast_detail.hh"
#include "sql/expression/eval_vector.hh"
#include "storage/values.hh"

#include <charconv>

namespace tv::sql::cast_detail {

namespace {

using storage::column_type;
using storage::column_vector;
using storage::type_kind;

bool limited(const cast_request& r) {
    return r.check_length && (r.to.kind == type_kind::char_ || r.to.kind == type_kind::varchar);
}

/// Integers to text straight into one buffer: the hot path of CAST(id AS VARCHAR).
template <class S>
column_vector integers_to_text(const column_vector& in, bool constant, size_t n, const cast_request& r,
                               std::vector<cast_failure>& failures) {
    auto src = in.values<S>();
    auto nulls = in.nulls();
    const bool check_nulls = in.nullable() && in.null_count() != 0;
    const size_t limit = limited(r) ? static_cast<size_t>(r.to.length) : SIZE_MAX;
    std::vector<uint64_t> offsets(n + 1);
    std::vector<uint8_t> out_nulls(r.to_nullable ? n : 0);
    std::string bytes;
    bytes.resize(n * 21);  // the longest int64 text is 20 bytes
    char* base = bytes.data();
    size_t at = 0;
    auto fail = [&](size_t i, cast_failure why) {
        if (failures.empty()) {
            failures.assign(n, cast_failure::none);
        }
        failures[i] = why;
        if (r.to_nullable) {
            out_nulls[i] = 1;
        }
    };
    for (size_t i = 0; i < n; ++i) {
        size_t s = constant ? 0 : i;
        if (check_nulls && nulls[s] != 0) {
            if (r.to_nullable) {
                out_nulls[i] = 1;
            } else {
                fail(i, cast_failure::null);
            }
        } else {
            auto [end, ec] = std::to_chars(base + at, base + at + 21, static_cast<int64_t>(src[s]));
            size_t len = static_cast<size_t>(end - (base + at));
            if (len > limit) {
                fail(i, cast_failure::too_long);
            } else {
                at += len;
            }
        }
        offsets[i + 1] = at;
    }
    bytes.resize(at);
    return column_vector::from_strings(r.to_nullable, std::move(offsets), std::move(bytes), std::move(out_nulls));
}

column_vector to_text(const column_vector& in, bool constant, size_t n, const cast_request& r,
                      std::vector<cast_failure>& failures) {
    switch (r.from.kind) {
    case type_kind::boolean: return integers_to_text<uint8_t>(in, constant, n, r, failures);
    case type_kind::tinyint: return integers_to_text<int8_t>(in, constant, n, r, failures);
    case type_kind::smallint: return integers_to_text<int16_t>(in, constant, n, r, failures);
    case type_kind::int_: return integers_to_text<int32_t>(in, constant, n, r, failures);
    case type_kind::bigint: return integers_to_text<int64_t>(in, constant, n, r, failures);
    default: break;
    }
    const bool from_text = in.type() == storage::physical_type::bytes;
    const size_t limit = limited(r) ? static_cast<size_t>(r.to.length) : SIZE_MAX;
    if (from_text && !constant && (r.to_nullable || in.null_count() == 0)) {
        // Text to text that all fits: the buffers are copied whole.
        auto offsets = in.offsets();
        bool fits = true;
        for (size_t i = 0; i < n && fits && limit != SIZE_MAX; ++i) {
            fits = offsets[i + 1] - offsets[i] <= limit;
        }
        if (fits) {
            std::vector<uint8_t> nulls;
            if (r.to_nullable) {
                nulls = in.nullable() ? std::vector<uint8_t>(in.nulls().begin(), in.nulls().end())
                                      : std::vector<uint8_t>(n, 0);
            }
            return column_vector::from_strings(r.to_nullable, std::vector<uint64_t>(offsets.begin(), offsets.end()),
                                               std::string(in.bytes()), std::move(nulls));
        }
    }
    size_t hint = from_text ? (constant ? in.bytes().size() * n : in.bytes().size()) : n * 12;
    vec::string_builder out(n, r.to_nullable, hint);
    auto fail = [&](size_t i, cast_failure why) {
        if (failures.empty()) {
            failures.assign(n, cast_failure::none);
        }
        failures[i] = why;
        if (r.to_nullable) {
            out.append_null();
        } else {
            out.append({});
        }
    };
    std::string text;
    for (size_t i = 0; i < n; ++i) {
        size_t s = constant ? 0 : i;
        if (in.is_null(s)) {
            if (r.to_nullable) {
                out.append_null();
            } else {
                fail(i, cast_failure::null);
            }
            continue;
        }
        std::string_view value;
        if (from_text) {
            value = in.string_at(s);
        } else {
            text = storage::format_typed(r.from, in.get(s));
            value = text;
        }
        if (value.size() > limit) {
            fail(i, cast_failure::too_long);
        } else {
            out.append(value);
        }
    }
    return out.finish();
}

/// One text to the physical value of `to`; nullopt when it does not parse.
template <class D>
std::optional<D> parse_one(std::string_view text, const column_type& to) {
    if constexpr (std::is_integral_v<D> && !std::is_same_v<D, uint8_t> && sizeof(D) <= 8) {
        // Plain digits are most of what loads send: skip the general parser for them (DATE
        // and DATETIME share these physical types and take the general parser).
        int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (to.is_integer() && ec == std::errc{} && end == text.data() + text.size() && !text.empty()) {
            if (v >= std::numeric_limits<D>::min() && v <= std::numeric_limits<D>::max()) {
                return static_cast<D>(v);
            }
            return std::nullopt;
        }
    }
    auto parsed = storage::parse_typed(to, text);
    if (!parsed && to.kind == type_kind::date) {
        // '2024-01-02 10:00:00' as a DATE is its day, as StarRocks casts it.
        column_type datetime{type_kind::datetime};
        if (auto dt = storage::parse_typed(datetime, text)) {
            return static_cast<D>(date_of_datetime(std::get<int64_t>(*dt)));
        }
    }
    if (!parsed) {
        return std::nullopt;
    }
    if constexpr (std::is_same_v<D, uint8_t>) {
        return static_cast<uint8_t>(std::get<bool>(*parsed) ? 1 : 0);
    } else {
        return std::get<D>(*parsed);
    }
}

template <class D>
column_vector from_text(const column_vector& in, bool constant, size_t n, const cast_request& r,
                        std::vector<cast_failure>& failures) {
    vec::fixed_builder<D> out(n, r.to_nullable);
    for (size_t i = 0; i < n; ++i) {
        size_t s = constant ? 0 : i;
        cast_failure why = cast_failure::none;
        if (in.is_null(s)) {
            if (r.to_nullable) {
                out.set_null(i);
                continue;
            }
            why = cast_failure::null;
        } else if (auto v = parse_one<D>(in.string_at(s), r.to)) {
            out.values[i] = *v;
            continue;
        } else {
            why = cast_failure::invalid;
        }
        if (failures.empty()) {
            failures.assign(n, cast_failure::none);
        }
        failures[i] = why;
        if (r.to_nullable) {
            out.set_null(i);
        }
    }
    return out.finish();
}

}  // namespace

column_vector cast_text(const column_vector& in, bool constant, size_t n, const cast_request& req,
                        std::vector<cast_failure>& failures) {
    if (storage::physical_of(req.to.kind) == storage::physical_type::bytes) {
        return to_text(in, constant, n, req, failures);
    }
    switch (req.to.kind) {
    case type_kind::boolean: return from_text<uint8_t>(in, constant, n, req, failures);
    case type_kind::tinyint: return from_text<int8_t>(in, constant, n, req, failures);
    case type_kind::smallint: return from_text<int16_t>(in, constant, n, req, failures);
    case type_kind::int_:
    case type_kind::date: return from_text<int32_t>(in, constant, n, req, failures);
    case type_kind::bigint:
    case type_kind::datetime: return from_text<int64_t>(in, constant, n, req, failures);
    case type_kind::largeint:
    case type_kind::decimal: return from_text<int128>(in, constant, n, req, failures);
    case type_kind::float_: return from_text<float>(in, constant, n, req, failures);
    case type_kind::double_: return from_text<double>(in, constant, n, req, failures);
    default: break;
    }
    throw std::logic_error("cast_text: unexpected target");
}

}  // namespace tv::sql::cast_detail
