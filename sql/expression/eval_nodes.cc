// SPDX-License-Identifier: Apache-2.0
// Compiled expression nodes (constants, column references, kernel nodes with constant folding,
// conversions) and the type rules that decide which conversions an operator inserts.
#include "sql/expression/eval_nodes.hh"

#include "io/ascii.hh"
#include "sql/expression/cast.hh"

#include <fmt/format.h>

#include <algorithm>

namespace tv::sql {

namespace {

using storage::column_type;
using storage::type_kind;

class constant_node final : public compiled_expr {
public:
    constant_node(column_type type, storage::column_vector value, bool null_literal)
        : compiled_expr(type, value.nullable()), _value(std::move(value)), _null_literal(null_literal) {}
    bool constant() const override { return true; }
    bool null_literal() const override { return _null_literal; }

protected:
    sql_result<value_vector> run(const storage::column_batch&) const override { return value_vector::borrow(_value, true); }

private:
    storage::column_vector _value;
    bool _null_literal;
};

class column_node final : public compiled_expr {
public:
    column_node(size_t slot, const storage::column_desc& desc) : compiled_expr(desc.type, desc.nullable), _slot(slot) {}
    std::optional<size_t> column_slot() const override { return _slot; }

protected:
    sql_result<value_vector> run(const storage::column_batch& in) const override {
        const storage::column_vector& c = in.column(_slot);
        if (c.type() != storage::physical_of(type().kind)) {
            return make_error(errc::unknown, "Column '{}' arrived as another type than planned ({})",
                              in.schema()[_slot].name, type().to_sql());
        }
        if (c.nullable() == nullable()) {
            return value_vector::borrow(c);
        }
        // A source whose batches say otherwise than its schema about NULLs: adapt the column.
        if (!nullable() && c.null_count() != 0) {
            return make_error(errc::bad_null, "Column '{}' cannot be null", in.schema()[_slot].name);
        }
        return value_vector::own(vec::with_nullability(value_vector::borrow(c).materialize(c.size()), nullable()));
    }

private:
    size_t _slot;
};

class kernel_node final : public compiled_expr {
public:
    kernel_node(column_type type, bool nullable, std::vector<expr_ptr> args, kernel k, std::string text)
        : compiled_expr(type, nullable), _args(std::move(args)), _kernel(std::move(k)), _text(std::move(text)) {}

protected:
    sql_result<value_vector> run(const storage::column_batch& in) const override {
        std::vector<value_vector> values;
        values.reserve(_args.size());
        bool constant = true;
        for (const auto& a : _args) {
            auto v = a->eval(in);
            if (!v) {
                return v.error();
            }
            values.push_back(std::move(*v));
            constant = constant && values.back().constant();
        }
        kernel_args k{values, constant ? 1 : in.num_rows(), constant, *this, _text};
        return _kernel(k);
    }

private:
    std::vector<expr_ptr> _args;
    kernel _kernel;
    std::string _text;
};

/// The same values under another type label of the same physical type (VARCHAR(10) as
/// VARCHAR, DECIMAL(10, 2) as DECIMAL(38, 2)): no work at all.
class relabel_node final : public compiled_expr {
public:
    relabel_node(column_type type, expr_ptr inner) : compiled_expr(type, inner->nullable()), _inner(std::move(inner)) {}
    bool constant() const override { return _inner->constant(); }

protected:
    sql_result<value_vector> run(const storage::column_batch& in) const override { return _inner->eval(in); }

private:
    expr_ptr _inner;
};

/// A conversion, as CAST does it: values that do not convert become NULL.
class cast_node final : public compiled_expr {
public:
    cast_node(column_type to, bool nullable, expr_ptr input)
        : compiled_expr(to, nullable), _input(std::move(input)) {}
    expr_ptr cast_input() const override { return _input; }

protected:
    sql_result<value_vector> run(const storage::column_batch& in) const override {
        auto v = _input->eval(in);
        if (!v) {
            return v.error();
        }
        const auto& x = *v;
        const size_t n = x.constant() ? 1 : in.num_rows();
        std::vector<cast_failure> failures;  // rows that do not convert are NULL
        cast_request req{_input->type(), type(), nullable(), false};
        return value_vector::own(cast_column(x.column(), x.constant(), n, req, failures), x.constant());
    }

private:
    expr_ptr _input;
};

bool identical_values(const column_type& from, const column_type& to) {
    if (storage::physical_of(from.kind) != storage::physical_of(to.kind)) {
        return false;
    }
    if (types::is_string(from) && types::is_string(to)) {
        return true;
    }
    if (from.kind != to.kind) {
        return false;
    }
    return to.kind != type_kind::decimal || (from.scale == to.scale && from.precision <= to.precision);
}

}  // namespace

sql_result<expr_ptr> make_node(column_type type, bool nullable, std::vector<expr_ptr> args, kernel run,
                               std::string text) {
    bool constant = std::all_of(args.begin(), args.end(), [](const expr_ptr& a) { return a->constant(); });
    auto node = std::make_shared<kernel_node>(type, nullable, std::move(args), std::move(run), std::move(text));
    if (!constant) {
        return expr_ptr(node);
    }
    static const storage::column_batch empty;
    auto v = node->eval(empty);
    if (!v) {
        return v.error();
    }
    return make_constant_column(type, (std::move(*v)).materialize(1));
}

expr_ptr make_null_literal() {
    return std::make_shared<constant_node>(simple_type(type_kind::boolean),
                                           vec::null_column(storage::physical_type::boolean, 1), true);
}

expr_ptr make_column(size_t slot, const storage::column_desc& desc) {
    return std::make_shared<column_node>(slot, desc);
}

expr_ptr make_constant_column(column_type type, storage::column_vector one_row, bool null_literal) {
    return std::make_shared<constant_node>(type, std::move(one_row), null_literal);
}

expr_ptr make_constant(const column_type& t, const storage::cell& value) {
    storage::column_vector c(storage::physical_of(t.kind), storage::is_null(value));
    c.append(value);
    return make_constant_column(t, std::move(c));
}

sql_result<expr_ptr> convert(expr_ptr e, const column_type& t) {
    if (e->null_literal()) {
        return make_constant_column(t, vec::null_column(storage::physical_of(t.kind), 1));
    }
    if (identical_values(e->type(), t)) {
        if (e->type() == t) {
            return e;
        }
        return expr_ptr(std::make_shared<relabel_node>(t, std::move(e)));
    }
    bool nullable = e->nullable() || cast_can_fail(e->type(), t, false);
    const bool constant = e->constant();
    auto node = std::make_shared<cast_node>(t, nullable, std::move(e));
    if (!constant) {
        return expr_ptr(node);
    }
    static const storage::column_batch empty;
    auto v = node->eval(empty);
    if (!v) {
        return v.error();
    }
    return make_constant_column(t, (std::move(*v)).materialize(1));
}

sql_result<expr_ptr> convert_if_needed(expr_ptr e, const column_type& t) {
    if (!e->null_literal() && e->type() == t) {
        return e;
    }
    return convert(std::move(e), t);
}

storage::column_type varchar_type() {
    column_type t{type_kind::varchar};
    t.length = 65533;
    return t;
}

storage::column_type simple_type(type_kind k) {
    if (k == type_kind::varchar) {
        return varchar_type();
    }
    return column_type{k};
}

sql_error wrong_arg_count(std::string_view name) {
    return make_error(errc::wrong_paramcount_to_native_fct,
                      "Incorrect parameter count in the call to native function '{}'", name);
}

sql_error no_matching_function(std::string_view name, const function_args& args) {
    std::string types;
    for (size_t i = 0; i < args.size(); ++i) {
        types += (i == 0 ? "" : ", ") + args[i]->type().to_sql();
    }
    return make_error(errc::no_such_function, "No matching function with signature: {}({}).", name, types);
}

namespace types {

bool is_integral(const column_type& t) {
    switch (t.kind) {
    case type_kind::boolean:
    case type_kind::tinyint:
    case type_kind::smallint:
    case type_kind::int_:
    case type_kind::bigint: return true;
    default: return false;
    }
}

bool is_exact(const column_type& t) {
    return is_integral(t) || t.kind == type_kind::largeint || t.kind == type_kind::decimal;
}

bool is_numeric(const column_type& t) {
    return is_exact(t) || t.is_floating();
}

bool is_string(const column_type& t) {
    return t.is_string() || t.kind == type_kind::json;
}

bool is_temporal(const column_type& t) {
    return t.kind == type_kind::date || t.kind == type_kind::datetime;
}

column_type decimal(int precision, int scale) {
    column_type t{type_kind::decimal};
    t.precision = std::clamp(precision, 1, 38);
    t.scale = std::clamp(scale, 0, t.precision);
    return t;
}

column_type as_decimal(const column_type& t) {
    switch (t.kind) {
    case type_kind::decimal: return t;
    case type_kind::largeint: return decimal(38, 0);
    case type_kind::bigint: return decimal(18, 0);
    default: return decimal(9, 0);  // BOOLEAN .. INT, as StarRocks' DECIMAL32
    }
}

namespace {

int rank(type_kind k) {
    switch (k) {
    case type_kind::boolean: return 0;
    case type_kind::tinyint: return 1;
    case type_kind::smallint: return 2;
    case type_kind::int_: return 3;
    case type_kind::bigint: return 4;
    default: return 5;
    }
}

column_type wider_decimal(const column_type& a, const column_type& b) {
    column_type x = as_decimal(a);
    column_type y = as_decimal(b);
    int scale = std::max(x.scale, y.scale);
    int whole = std::max(x.precision - x.scale, y.precision - y.scale);
    return decimal(std::min(38, whole + scale), scale);
}

}  // namespace

std::optional<column_type> common(const column_type& a, const column_type& b) {
    if (is_string(a) || is_string(b)) {
        return varchar_type();
    }
    if (a.kind == b.kind && a.kind != type_kind::decimal) {
        return a;
    }
    if (is_exact(a) && is_exact(b)) {
        if (a.kind == type_kind::decimal || b.kind == type_kind::decimal) {
            return wider_decimal(a, b);
        }
        if (a.kind == type_kind::largeint || b.kind == type_kind::largeint) {
            return simple_type(type_kind::largeint);
        }
        return rank(a.kind) >= rank(b.kind) ? a : b;
    }
    if (is_numeric(a) && is_numeric(b)) {
        return simple_type(type_kind::double_);
    }
    if (is_temporal(a) && is_temporal(b)) {
        return simple_type(type_kind::datetime);
    }
    return varchar_type();
}

column_type comparison(const column_type& a, const column_type& b, bool equality) {
    if (a.kind == b.kind && a.kind != type_kind::decimal) {
        return is_string(a) ? varchar_type() : a;
    }
    if (is_string(a) && is_string(b)) {
        return varchar_type();
    }
    if (is_temporal(a) || is_temporal(b)) {
        const column_type& other = is_temporal(a) ? b : a;
        const column_type& temporal = is_temporal(a) ? a : b;
        if (is_temporal(other)) {
            return simple_type(type_kind::datetime);
        }
        if (is_string(other)) {
            return temporal;  // the text is read as a date (converted once when it is a literal)
        }
        return other.is_floating() ? simple_type(type_kind::double_) : simple_type(type_kind::bigint);
    }
    if (is_string(a) || is_string(b)) {
        const column_type& other = is_string(a) ? b : a;
        // StarRocks: = and <> between text and an exact number compare text; ranges compare numbers.
        return equality && is_exact(other) ? varchar_type() : simple_type(type_kind::double_);
    }
    if (is_exact(a) && is_exact(b)) {
        if (a.kind == type_kind::decimal || b.kind == type_kind::decimal) {
            return wider_decimal(a, b);
        }
        if (a.kind == type_kind::largeint || b.kind == type_kind::largeint) {
            return simple_type(type_kind::largeint);
        }
        return simple_type(type_kind::bigint);
    }
    return simple_type(type_kind::double_);
}

}  // namespace types

}  // namespace tv::sql
