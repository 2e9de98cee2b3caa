// SPDX-License-Identifier: Apache-2.0
// What every load shares: the columns it supplies (INSERT's column list, Stream Load's `columns`
// header) and how a batch of just those becomes a full row of the table (every other column gets
// its DEFAULT, or NULL; a NOT NULL column without a default cannot be left out); and the label a
// load gets when none is given.
#pragma once

#include "sql/errors.hh"
#include "storage/catalog_types.hh"
#include "storage/column_batch.hh"

#include <string>
#include <variant>
#include <vector>

namespace tv::sql {

/// "insert_5f0c...": a label for a load given none (`kind` names the kind of load).
std::string generated_load_label(std::string_view kind);

class load_columns {
public:
    /// `names` empty: every column in table order. Unknown or repeated names and NOT NULL columns
    /// without a default left out are errors in StarRocks' words.
    static sql_result<load_columns> resolve(const storage::table& t, const std::vector<std::string>& names);

    /// The supplied columns, typed as the table declares them: what a source's rows are cast to.
    const std::vector<storage::column_desc>& supplied() const { return _supplied; }
    /// The table's full schema, the rows a load writer takes.
    const std::vector<storage::column_desc>& full() const { return _full; }

    /// `rows` (of supplied()) completed to full(): columns reordered, missing ones filled.
    storage::column_batch complete(storage::column_batch rows) const;

private:
    struct filler {
        int supplied_index = -1;       ///< >= 0: take that supplied column
        storage::column_vector value;  ///< else: one row holding the default (or NULL)
    };
    load_columns() = default;

    std::vector<storage::column_desc> _supplied;
    std::vector<storage::column_desc> _full;
    std::vector<filler> _fillers;
};

}  // namespace tv::sql
