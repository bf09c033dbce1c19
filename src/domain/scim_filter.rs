//! The SCIM filters this service understands (RFC 7644 §3.4.2.2, a subset):
//! `eq`, `co` and `sw` on `userName`, `externalId`, `emails.value`, `active`
//! (and a Group's `displayName`), combined with `and`, `or` and parentheses.
//! Anything else is refused (`invalidFilter`), never ignored.

/// The attributes a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    UserName,
    ExternalId,
    EmailsValue,
    Active,
    DisplayName,
}

impl Attr {
    fn parse(name: &str) -> Option<Attr> {
        // A fully qualified core attribute names the same thing.
        let name = name
            .strip_prefix("urn:ietf:params:scim:schemas:core:2.0:User:")
            .or_else(|| name.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:Group:"))
            .unwrap_or(name);
        match name.to_ascii_lowercase().as_str() {
            "username" => Some(Attr::UserName),
            "externalid" => Some(Attr::ExternalId),
            "emails.value" | "emails" => Some(Attr::EmailsValue),
            "active" => Some(Attr::Active),
            "displayname" => Some(Attr::DisplayName),
            _ => None,
        }
    }

    /// `externalId` is case-exact (RFC 7643 §3.1); the others are not.
    fn case_exact(self) -> bool {
        self == Attr::ExternalId
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Co,
    Sw,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    Text(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Compare(Attr, Op, Literal),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

/// An attribute's value(s) on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Bool(bool),
}

/// Why a filter was refused (the `detail` of a `400 invalidFilter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

/// Longest filter accepted, and deepest nesting.
pub const MAX_LEN: usize = 1_000;
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
    Text(String),
}

fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err(FilterError("unterminated string".into())),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('"') => text.push('"'),
                            Some('\\') => text.push('\\'),
                            Some('/') => text.push('/'),
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            _ => return Err(FilterError("invalid escape in a string".into())),
                        },
                        Some(other) => text.push(other),
                    }
                }
                tokens.push(Token::Text(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn or(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut left = self.and(depth)?;
        while self.peek_word("or") {
            self.at += 1;
            let right = self.and(depth)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, FilterError> {
        let mut left = self.atom(depth)?;
        while self.peek_word("and") {
            self.at += 1;
            let right = self.atom(depth)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn atom(&mut self, depth: usize) -> Result<Filter, FilterError> {
        if depth > MAX_DEPTH {
            return Err(FilterError("the filter is nested too deeply".into()));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or(depth + 1)?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(FilterError("a parenthesis is not closed".into())),
                }
            }
            Some(Token::Word(name)) => {
                let attr = Attr::parse(&name).ok_or_else(|| {
                    FilterError(format!("filtering on \"{name}\" is not supported"))
                })?;
                let op = match self.next() {
                    Some(Token::Word(op)) => match op.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "co" => Op::Co,
                        "sw" => Op::Sw,
                        _ => {
                            return Err(FilterError(format!(
                                "the operator \"{op}\" is not supported (eq, co, sw are)"
                            )));
                        }
                    },
                    _ => return Err(FilterError("an operator is missing".into())),
                };
                let literal = match self.next() {
                    Some(Token::Text(text)) => Literal::Text(text),
                    Some(Token::Word(word)) if word.eq_ignore_ascii_case("true") => {
                        Literal::Bool(true)
                    }
                    Some(Token::Word(word)) if word.eq_ignore_ascii_case("false") => {
                        Literal::Bool(false)
                    }
                    _ => return Err(FilterError("a value is missing or not supported".into())),
                };
                match (&literal, attr, op) {
                    (Literal::Bool(_), Attr::Active, Op::Eq) => {}
                    (Literal::Text(_), Attr::Active, _) | (Literal::Bool(_), _, _) => {
                        return Err(FilterError(
                            "active compares with eq true or eq false only".into(),
                        ));
                    }
                    _ => {}
                }
                Ok(Filter::Compare(attr, op, literal))
            }
            _ => Err(FilterError("an attribute is expected".into())),
        }
    }
}

/// Parses a filter; `Err` for anything outside the supported subset.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    if input.len() > MAX_LEN {
        return Err(FilterError(format!(
            "the filter is longer than {MAX_LEN} characters"
        )));
    }
    let tokens = tokenize(input)?;
    let mut parser = Parser { tokens, at: 0 };
    let filter = parser.or(0)?;
    if parser.at != parser.tokens.len() {
        return Err(FilterError("unexpected text after the filter".into()));
    }
    Ok(filter)
}

impl Filter {
    /// Whether a resource matches; `values` gives an attribute's values on it.
    pub fn matches(&self, values: &dyn Fn(Attr) -> Vec<Value>) -> bool {
        match self {
            Filter::And(a, b) => a.matches(values) && b.matches(values),
            Filter::Or(a, b) => a.matches(values) || b.matches(values),
            Filter::Compare(attr, op, literal) => {
                values(*attr).iter().any(|value| match (value, literal) {
                    (Value::Bool(v), Literal::Bool(l)) => v == l,
                    (Value::Text(v), Literal::Text(l)) => {
                        let (v, l) = if attr.case_exact() {
                            (v.clone(), l.clone())
                        } else {
                            (v.to_lowercase(), l.to_lowercase())
                        };
                        match op {
                            Op::Eq => v == l,
                            Op::Co => v.contains(&l),
                            Op::Sw => v.starts_with(&l),
                        }
                    }
                    _ => false,
                })
            }
        }
    }

    /// The one `userName eq "…"` this filter is, if it is exactly that.
    pub fn user_name_eq(&self) -> Option<&str> {
        match self {
            Filter::Compare(Attr::UserName, Op::Eq, Literal::Text(text)) => Some(text),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn person(attr: Attr) -> Vec<Value> {
        match attr {
            Attr::UserName => vec![Value::Text("Jane.Doe@Example.com".into())],
            Attr::EmailsValue => vec![
                Value::Text("Jane.Doe@Example.com".into()),
                Value::Text("jd@home.example".into()),
            ],
            Attr::ExternalId => vec![Value::Text("00uAbC".into())],
            Attr::Active => vec![Value::Bool(true)],
            Attr::DisplayName => vec![],
        }
    }

    #[test]
    fn the_filters_directories_send_are_understood() {
        for (filter, expected) in [
            (r#"userName eq "jane.doe@example.com""#, true),
            (r#"USERNAME EQ "JANE.DOE@EXAMPLE.COM""#, true),
            (r#"userName eq "john@example.com""#, false),
            (r#"externalId eq "00uAbC""#, true),
            (r#"externalId eq "00uabc""#, false),
            (r#"emails.value co "home""#, true),
            (r#"userName sw "jane""#, true),
            ("active eq true", true),
            ("active eq false", false),
            (r#"userName eq "x" or externalId eq "00uAbC""#, true),
            (r#"userName sw "jane" and active eq false"#, false),
            (
                r#"(userName eq "x" or active eq true) and emails.value co "@""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "jane.doe@example.com""#,
                true,
            ),
        ] {
            let parsed = parse(filter).unwrap_or_else(|e| panic!("{filter}: {e:?}"));
            assert_eq!(parsed.matches(&person), expected, "{filter}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for filter in [
            "",
            "userName",
            r#"userName ne "x""#,
            r#"userName gt "x""#,
            r#"title eq "x""#,
            r#"userName eq "x"#,
            r#"userName eq "x" and"#,
            r#"(userName eq "x""#,
            r#"userName eq "x")"#,
            "userName eq 12",
            r#"active eq "true""#,
            "userName eq true",
            r#"userName pr"#,
            r#"emails[type eq "work"]"#,
            r#"not (userName eq "x")"#,
        ] {
            assert!(parse(filter).is_err(), "{filter} was accepted");
        }
    }

    #[test]
    fn user_name_eq_is_recognised() {
        let filter = parse(r#"userName eq "a@b.c""#).unwrap();
        assert_eq!(filter.user_name_eq(), Some("a@b.c"));
        assert_eq!(parse("active eq true").unwrap().user_name_eq(), None);
    }

    fn quoted(text: &str) -> String {
        let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{escaped}\"")
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in ".{0,200}") {
            let _ = parse(&input);
        }

        #[test]
        fn any_quoted_value_round_trips(value in "[^\\n\\t]{0,40}") {
            let filter = parse(&format!("userName eq {}", quoted(&value))).unwrap();
            prop_assert_eq!(filter.user_name_eq(), Some(value.as_str()));
        }

        #[test]
        fn or_and_and_agree_with_boolean_logic(a in any::<bool>(), b in any::<bool>(), c in any::<bool>()) {
            let term = |x: bool| if x { r#"userName sw "jane""# } else { r#"userName eq "nobody""# };
            let filter = parse(&format!("{} or {} and {}", term(a), term(b), term(c))).unwrap();
            prop_assert_eq!(filter.matches(&person), a || (b && c));
            let grouped = parse(&format!("({} or {}) and {}", term(a), term(b), term(c))).unwrap();
            prop_assert_eq!(grouped.matches(&person), (a || b) && c);
        }
    }
}
