//! Keyset paging: `limit` (1–100, default 25) and an opaque `cursor`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::field_error::FieldError;

pub const DEFAULT_LIMIT: i64 = 25;
pub const MAX_LIMIT: i64 = 100;

/// One page of a newest-first listing: rows with `id < before_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub before_id: Option<i64>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "limit",
                "out_of_range",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let before_id = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => match decode_cursor(c) {
                Some(id) => Some(id),
                None => {
                    errors.push(FieldError::new(
                        "cursor",
                        "invalid_value",
                        "cursor is not one this service issued",
                    ));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(Self { limit, before_id })
        } else {
            Err(errors)
        }
    }

    /// Given up to `limit + 1` rows fetched newest first, trims the extra row and
    /// returns the cursor of the next page when there is one.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        id_of: impl Fn(&T) -> i64,
    ) -> (Vec<T>, Option<String>) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        if rows.len() > limit {
            rows.truncate(limit);
            let next = rows.last().map(|r| encode_cursor(id_of(r)));
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

pub fn encode_cursor(last_id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{last_id}"))
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("v1:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let page = PageRequest::parse(Some(10), Some(&encode_cursor(42))).unwrap();
        assert_eq!(
            page,
            PageRequest {
                limit: 10,
                before_id: Some(42)
            }
        );
        assert!(PageRequest::parse(None, Some("garbage!")).is_err());
        assert_eq!(
            PageRequest::parse(Some(0), None).unwrap_err()[0].field,
            "limit"
        );
        assert_eq!(
            PageRequest::parse(Some(101), None).unwrap_err()[0].code,
            "out_of_range"
        );
    }

    #[test]
    fn finish_trims_the_lookahead_row() {
        let page = PageRequest {
            limit: 2,
            before_id: None,
        };
        let (rows, next) = page.finish(vec![5, 4, 3], |r| *r);
        assert_eq!(rows, vec![5, 4]);
        assert_eq!(next, Some(encode_cursor(4)));
        let (rows, next) = page.finish(vec![5, 4], |r| *r);
        assert_eq!(rows.len(), 2);
        assert_eq!(next, None);
    }
}
