// SPDX-License-Identifier: Apache-2.0
// JSON for journal records and the image, through Boost.Describe member lists. Decoding takes
// missing members as their defaults and ignores unknown ones, so a field added later can be
// read from an older image, and an older binary reads a newer image minus the new fields.
#include "storage/catalog_ops.hh"

// The one place that compiles Boost.JSON into the binary (header-only mode).
#include <boost/json/src.hpp>

#include <boost/describe.hpp>
#include <boost/json.hpp>
#include <boost/mp11.hpp>

#include <fmt/format.h>

#include <stdexcept>
#include <type_traits>

namespace tv::storage {

namespace json = boost::json;

BOOST_DESCRIBE_ENUM(aggregation, none, sum, min, max, replace, replace_if_not_null, hll_union, bitmap_union)
BOOST_DESCRIBE_ENUM(default_kind, literal, null, current_timestamp)
BOOST_DESCRIBE_ENUM(key_model, duplicate, aggregate, unique, primary)
BOOST_DESCRIBE_ENUM(partition_kind, none, range, list)
BOOST_DESCRIBE_ENUM(function_kind, scalar, aggregate, table)
BOOST_DESCRIBE_ENUM(privilege, select, insert)

BOOST_DESCRIBE_STRUCT(column_default, (), (kind, text))
BOOST_DESCRIBE_STRUCT(column, (), (name, type, nullable, default_value, agg, is_key, comment))
BOOST_DESCRIBE_STRUCT(index_tablets, (), (index_id, tablet_ids))
BOOST_DESCRIBE_STRUCT(segment_file, (), (name, size, rows, checksum))
BOOST_DESCRIBE_STRUCT(rowset, (), (id, version, files))
BOOST_DESCRIBE_STRUCT(partition, (), (id, name, lower, upper, values, visible_version, visible_version_time_ms, buckets, tablets))
BOOST_DESCRIBE_STRUCT(partition_info, (), (kind, columns, partitions))
BOOST_DESCRIBE_STRUCT(distribution, (), (columns, buckets, random))
BOOST_DESCRIBE_STRUCT(materialized_index, (), (id, name, query_text, columns))
BOOST_DESCRIBE_STRUCT(table, (), (id, name, columns, keys, key_columns, partitioning, dist, props, comment, indexes))
BOOST_DESCRIBE_STRUCT(view_column, (), (name, comment))
BOOST_DESCRIBE_STRUCT(view, (), (id, name, columns, query_text, comment))
BOOST_DESCRIBE_STRUCT(refresh_scheme, (), (mode, start, interval))
BOOST_DESCRIBE_STRUCT(materialized_view, (),
                      (id, name, query_text, refresh, dist, partition_expr, props, comment, active, inactive_reason,
                       base_tables, columns, storage))
BOOST_DESCRIBE_STRUCT(function, (),
                      (id, name, arg_types, variadic, return_type, intermediate_type, kind, props, global))
BOOST_DESCRIBE_STRUCT(external_catalog, (), (id, name, comment, props))
BOOST_DESCRIBE_STRUCT(database, (), (id, name, props, tables, views, mvs, functions, load_labels))
BOOST_DESCRIBE_STRUCT(table_grant, (), (priv, db, table))
BOOST_DESCRIBE_STRUCT(user, (), (name, host, password_hash, roles, grants))
BOOST_DESCRIBE_STRUCT(repository, (), (id, name, create_time_ms, read_only, location, broker, props))

/// Tolerant decoding of a described struct: members absent from the object keep their defaults.
template <class T>
T decode_struct(const json::value& jv) {
    const json::object& obj = jv.as_object();
    T out{};
    boost::mp11::mp_for_each<boost::describe::describe_members<T, boost::describe::mod_public>>([&](auto member) {
        if (const json::value* v = obj.if_contains(member.name)) {
            using member_type = std::remove_cvref_t<decltype(out.*member.pointer)>;
            out.*member.pointer = json::value_to<member_type>(*v);
        }
    });
    return out;
}

// Boost.JSON prefers these (found by ADL) over its strict described-class conversion.
template <class T>
    requires boost::describe::has_describe_members<T>::value
T tag_invoke(const json::value_to_tag<T>&, const json::value& jv) {
    return decode_struct<T>(jv);
}

// A type is stored as its SQL text ("DECIMAL(10, 2)"), which stays readable in the image.
void tag_invoke(const json::value_from_tag&, json::value& jv, const column_type& t) {
    jv = t.to_sql();
}

// Boost.JSON's value_to has no error channel: this throws, and decode_entry / decode_state
// catch it and answer corrupt_metadata.
column_type tag_invoke(const json::value_to_tag<column_type>&, const json::value& jv) {
    auto t = column_type::from_sql(jv.as_string());
    if (!t) {
        throw std::runtime_error(t.error().message);
    }
    return *t;
}

}  // namespace tv::storage

namespace tv::storage::ops {

BOOST_DESCRIBE_STRUCT(create_database, (), (db))
BOOST_DESCRIBE_STRUCT(drop_database, (), (db))
BOOST_DESCRIBE_STRUCT(create_table, (), (db, tbl))
BOOST_DESCRIBE_STRUCT(drop_table, (), (db, table))
BOOST_DESCRIBE_STRUCT(add_partition, (), (db, table, part))
BOOST_DESCRIBE_STRUCT(drop_partition, (), (db, table, partition))
BOOST_DESCRIBE_STRUCT(truncate_table, (), (db, table, partitions))
BOOST_DESCRIBE_STRUCT(partition_tablets, (), (partition_id, tablet_ids))
BOOST_DESCRIBE_STRUCT(create_index, (), (db, table, index, tablets))
BOOST_DESCRIBE_STRUCT(drop_index, (), (db, table, index))
BOOST_DESCRIBE_STRUCT(put_view, (), (db, v))
BOOST_DESCRIBE_STRUCT(drop_view, (), (db, view))
BOOST_DESCRIBE_STRUCT(create_mv, (), (db, mv))
BOOST_DESCRIBE_STRUCT(drop_mv, (), (db, mv))
BOOST_DESCRIBE_STRUCT(set_mv_active, (), (db, mv, active, reason))
BOOST_DESCRIBE_STRUCT(create_function, (), (db, fn))
BOOST_DESCRIBE_STRUCT(drop_function, (), (db, id))
BOOST_DESCRIBE_STRUCT(create_catalog, (), (cat))
BOOST_DESCRIBE_STRUCT(drop_catalog, (), (name))
BOOST_DESCRIBE_STRUCT(create_user, (), (u))
BOOST_DESCRIBE_STRUCT(drop_user, (), (name, host))
BOOST_DESCRIBE_STRUCT(set_password, (), (name, host, password_hash))
BOOST_DESCRIBE_STRUCT(change_roles, (), (name, host, grant, roles))
BOOST_DESCRIBE_STRUCT(change_grants, (), (name, host, grant, grants))
BOOST_DESCRIBE_STRUCT(tablet_rowset, (), (tablet_id, data))
BOOST_DESCRIBE_STRUCT(publish_load, (), (db, table, table_id, label, label_time_ms, overwritten_partitions, rowsets))
BOOST_DESCRIBE_STRUCT(reserve_ids, (), ())
BOOST_DESCRIBE_STRUCT(restored_partitions, (), (table, table_id, replaced, added))
BOOST_DESCRIBE_STRUCT(restored_tablet, (), (tablet_id, rowsets))
BOOST_DESCRIBE_STRUCT(publish_restore, (),
                      (db, new_database, tables, partitions, views, mvs, functions, catalogs, tablets))
BOOST_DESCRIBE_STRUCT(create_repository, (), (repo))
BOOST_DESCRIBE_STRUCT(drop_repository, (), (name))
BOOST_DESCRIBE_STRUCT(rename_table, (), (db, table, new_name))
BOOST_DESCRIBE_STRUCT(swap_tables, (), (db, table, other))
BOOST_DESCRIBE_STRUCT(rename_partition, (), (db, table, partition, new_name))
BOOST_DESCRIBE_STRUCT(rename_database, (), (db, new_name))

template <class T>
    requires boost::describe::has_describe_members<T>::value
T tag_invoke(const json::value_to_tag<T>&, const json::value& jv) {
    return tv::storage::decode_struct<T>(jv);
}

}  // namespace tv::storage::ops

namespace tv::storage {

namespace {

// The image's own version: bump it when a change cannot be read by the tolerant decoder.
constexpr int64_t image_format = 1;

template <size_t... I>
std::optional<ops::op> decode_op(std::string_view name, const json::value& body, std::index_sequence<I...>) {
    std::optional<ops::op> out;
    auto try_one = [&]<size_t N>(std::integral_constant<size_t, N>) {
        using alternative = std::variant_alternative_t<N, ops::op>;
        if (!out && alternative::op_name == name) {
            out.emplace(std::in_place_index<N>, json::value_to<alternative>(body));
        }
    };
    (try_one(std::integral_constant<size_t, I>{}), ...);
    return out;
}

}  // namespace

std::string encode_entry(const journal_entry& entry) {
    json::object obj;
    std::visit(
        [&](const auto& change) {
            obj["op"] = change.op_name;
            obj["next_id"] = entry.next_id;
            obj["body"] = json::value_from(change);
        },
        entry.change);
    return json::serialize(obj);
}

// Boost.JSON's value_to reports a missing member or a wrong kind by throwing; the decoders catch
// that right here and answer with a value.
storage_result<journal_entry> decode_entry(std::string_view payload) {
    try {
        json::value jv = json::parse(payload);
        const json::object& obj = jv.as_object();
        std::string_view name = obj.at("op").as_string();
        auto change = decode_op(name, obj.at("body"), std::make_index_sequence<std::variant_size_v<ops::op>>{});
        if (!change) {
            return make_error(storage_errc::corrupt_metadata, fmt::format("unknown record type '{}'", name));
        }
        return journal_entry{obj.at("next_id").to_number<object_id>(), std::move(*change)};
    } catch (const std::exception& e) {
        return make_error(storage_errc::corrupt_metadata, fmt::format("undecodable record: {}", e.what()));
    }
}

std::string encode_state(const catalog_state& state) {
    json::object obj;
    obj["format"] = image_format;
    obj["next_id"] = state.next_id;
    obj["databases"] = json::value_from(state.databases);
    obj["catalogs"] = json::value_from(state.catalogs);
    obj["global_functions"] = json::value_from(state.global_functions);
    json::array users;
    for (const auto& [_, u] : state.users) {
        users.push_back(json::value_from(u));
    }
    obj["users"] = std::move(users);
    obj["repositories"] = json::value_from(state.repositories);
    // Tablet ids are numbers, which JSON object keys are not: an array of {tablet, rowsets}.
    json::array tablets;
    for (const auto& [tablet, rowsets] : state.tablet_rowsets) {
        json::object entry;
        entry["tablet"] = tablet;
        entry["rowsets"] = json::value_from(rowsets);
        tablets.push_back(std::move(entry));
    }
    obj["tablet_rowsets"] = std::move(tablets);
    return json::serialize(obj);
}

std::string encode_backup_meta(const database& objects, const std::vector<external_catalog>& catalogs) {
    json::object obj;
    obj["format"] = image_format;
    obj["database"] = json::value_from(objects);
    obj["catalogs"] = json::value_from(catalogs);
    return json::serialize(obj);
}

storage_result<backup_meta> decode_backup_meta(std::string_view text, std::string_view what) {
    try {
        json::value jv = json::parse(text);
        const json::object& obj = jv.as_object();
        if (int64_t format = obj.at("format").to_number<int64_t>(); format > image_format) {
            return make_error(storage_errc::corrupt_metadata,
                              fmt::format("{} has format {}, newer than this binary's {}", what, format, image_format));
        }
        backup_meta meta;
        meta.objects = json::value_to<database>(obj.at("database"));
        meta.catalogs = json::value_to<std::vector<external_catalog>>(obj.at("catalogs"));
        return meta;
    } catch (const std::exception& e) {
        return make_error(storage_errc::corrupt_metadata, fmt::format("{} is not a valid backup meta: {}", what, e.what()));
    }
}

storage_result<catalog_state> decode_state(std::string_view payload) {
    try {
        json::value jv = json::parse(payload);
        const json::object& obj = jv.as_object();
        if (int64_t format = obj.at("format").to_number<int64_t>(); format > image_format) {
            return make_error(storage_errc::corrupt_metadata,
                              fmt::format("image format {} is newer than this binary's {}", format, image_format));
        }
        catalog_state state;
        state.next_id = obj.at("next_id").to_number<object_id>();
        state.databases = json::value_to<decltype(state.databases)>(obj.at("databases"));
        state.catalogs = json::value_to<decltype(state.catalogs)>(obj.at("catalogs"));
        state.global_functions = json::value_to<decltype(state.global_functions)>(obj.at("global_functions"));
        for (const auto& u : obj.at("users").as_array()) {
            auto decoded = json::value_to<user>(u);
            user_key key{decoded.name, decoded.host};
            state.users.emplace(std::move(key), std::move(decoded));
        }
        if (const json::value* repos = obj.if_contains("repositories")) {  // absent in older images
            state.repositories = json::value_to<decltype(state.repositories)>(*repos);
        }
        if (const json::value* tablets = obj.if_contains("tablet_rowsets")) {
            for (const auto& entry : tablets->as_array()) {
                const json::object& e = entry.as_object();
                state.tablet_rowsets[e.at("tablet").to_number<object_id>()] =
                    json::value_to<std::vector<rowset>>(e.at("rowsets"));
            }
        }
        return state;
    } catch (const std::exception& e) {
        return make_error(storage_errc::corrupt_metadata, fmt::format("undecodable image: {}", e.what()));
    }
}

}  // namespace tv::storage
