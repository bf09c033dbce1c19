//! Money: integer cents of one currency. Prices, prorated amounts and charges
//! carry their currency with them, so amounts of different currencies are never
//! mixed: arithmetic between two amounts checks the currencies, and there is no
//! ordering across them. Stored and sent as `amount_cents` + `currency` (the
//! Diesel mapping of `Currency` is `db::money`'s; the JSON shapes are the
//! contract's).

use std::fmt;

use crate::domain::CorruptValue;

/// An ISO 4217 currency code: exactly three ASCII uppercase letters, checked
/// once when parsed. Stored and serialized as its text (`"USD"`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

/// Text that is not a three-letter uppercase ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a three-letter uppercase ISO 4217 currency code")]
pub struct InvalidCurrency(pub String);

impl Currency {
    /// `text` as a currency code: three ASCII uppercase letters, nothing else
    /// (no trimming, no case folding: callers normalise input first).
    pub fn parse(text: &str) -> Result<Self, InvalidCurrency> {
        match text.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(InvalidCurrency(text.to_owned())),
        }
    }

    /// A stored code: one this service did not write is corrupt, not a guess.
    pub fn from_db(text: &str) -> Result<Self, CorruptValue> {
        Self::parse(text)
            .map_err(|_| CorruptValue(format!("invalid currency in database: {text:?}")))
    }

    /// The code's text (`"USD"`).
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored (`parse`), so this is always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Currency {
    type Err = InvalidCurrency;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidCurrency;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.as_str().to_owned()
    }
}

/// An amount in the smallest unit ("cents") of its currency. Equal only to the
/// same amount of the same currency; not ordered (compare `cents()` of amounts
/// known to share a currency, or use `checked_sub`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    cents: i64,
    currency: Currency,
}

/// Why money arithmetic has no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("amount overflows")]
    Overflow,
}

impl Money {
    pub const fn new(cents: i64, currency: Currency) -> Self {
        Self { cents, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The integer the database and the JSON carry (`amount_cents`, `price_cents`).
    pub const fn cents(self) -> i64 {
        self.cents
    }

    pub const fn currency(self) -> Currency {
        self.currency
    }

    pub const fn is_zero(self) -> bool {
        self.cents == 0
    }

    /// `round_half_up(self × part / whole)` in exact integer arithmetic, `part`
    /// capped at `whole`; zero when any of the three is not positive. What a
    /// price costs for `part` seconds of a `whole`-second period.
    pub fn portion(self, part: i64, whole: i64) -> Self {
        Self::new(portion_cents(self.cents, part, whole), self.currency)
    }

    /// `quantity` times this amount; `Overflow` rather than a wrong total.
    pub fn checked_mul(self, quantity: i64) -> Result<Self, MoneyError> {
        self.cents
            .checked_mul(quantity)
            .map(|cents| Self::new(cents, self.currency))
            .ok_or(MoneyError::Overflow)
    }

    /// The sum of two amounts of the same currency.
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        let currency = self.same_currency(other)?;
        self.cents
            .checked_add(other.cents)
            .map(|cents| Self::new(cents, currency))
            .ok_or(MoneyError::Overflow)
    }

    /// The difference of two amounts of the same currency.
    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        let currency = self.same_currency(other)?;
        self.cents
            .checked_sub(other.cents)
            .map(|cents| Self::new(cents, currency))
            .ok_or(MoneyError::Overflow)
    }

    fn same_currency(self, other: Self) -> Result<Currency, MoneyError> {
        if self.currency == other.currency {
            Ok(self.currency)
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    /// `12345 USD` (cents and code: no guess at the currency's minor unit).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.cents, self.currency)
    }
}

/// The rounding rule of `Money::portion` on bare cents.
fn portion_cents(cents: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 || cents <= 0 || part <= 0 {
        return 0;
    }
    let part = i128::from(part.min(whole));
    let numerator = 2 * i128::from(cents) * part + i128::from(whole);
    let amount = numerator / (2 * i128::from(whole));
    i64::try_from(amount).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn usd_cents(cents: i64) -> Money {
        Money::new(cents, usd())
    }

    #[test]
    fn a_currency_is_three_uppercase_letters() {
        assert_eq!(usd().as_str(), "USD");
        assert_eq!(usd().to_string(), "USD");
        assert_eq!(format!("{:?}", usd()), "\"USD\"");
        for bad in ["", "US", "USDX", "usd", "Usd", "US1", " USD", "ÉUR", "U$D"] {
            assert_eq!(
                Currency::parse(bad),
                Err(InvalidCurrency(bad.to_owned())),
                "{bad:?}"
            );
        }
        assert!(Currency::from_db("usd").is_err());
        assert_eq!(Currency::from_db("EUR").unwrap(), eur());
    }

    #[test]
    fn a_currency_is_its_text_in_json() {
        assert_eq!(serde_json::to_string(&usd()).unwrap(), "\"USD\"");
        assert_eq!(serde_json::from_str::<Currency>("\"EUR\"").unwrap(), eur());
        assert!(serde_json::from_str::<Currency>("\"eur\"").is_err());
        assert!(serde_json::from_str::<Currency>("\"EURO\"").is_err());
    }

    #[test]
    fn portion_rounds_half_up_to_the_cent() {
        // 1 cent over 2 seconds with 1 second left = 0.5 cent → 1.
        assert_eq!(usd_cents(1).portion(1, 2), usd_cents(1));
        // 10 cents × 1/3 = 3.33 → 3; × 2/3 = 6.67 → 7.
        assert_eq!(usd_cents(10).portion(1, 3), usd_cents(3));
        assert_eq!(usd_cents(10).portion(2, 3), usd_cents(7));
        // Nothing for nothing, never more than the whole.
        assert_eq!(usd_cents(10).portion(0, 3), usd_cents(0));
        assert_eq!(usd_cents(10).portion(5, 3), usd_cents(10));
        assert_eq!(usd_cents(10).portion(1, 0), usd_cents(0));
        assert_eq!(usd_cents(-10).portion(1, 2), usd_cents(0));
        assert_eq!(usd_cents(i64::MAX).portion(1, 1), usd_cents(i64::MAX));
        assert_eq!(Money::new(10, eur()).portion(1, 3).currency(), eur());
    }

    #[test]
    fn multiplying_overflows_into_an_error() {
        assert_eq!(usd_cents(250).checked_mul(4), Ok(usd_cents(1_000)));
        assert_eq!(usd_cents(250).checked_mul(0), Ok(Money::zero(usd())));
        assert_eq!(
            usd_cents(i64::MAX / 2 + 1).checked_mul(2),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn different_currencies_never_mix() {
        let mismatch = Err(MoneyError::CurrencyMismatch {
            left: usd(),
            right: eur(),
        });
        assert_eq!(usd_cents(1).checked_add(Money::new(1, eur())), mismatch);
        assert_eq!(usd_cents(1).checked_sub(Money::new(1, eur())), mismatch);
        assert_ne!(usd_cents(1), Money::new(1, eur()));
        assert_eq!(usd_cents(1).checked_add(usd_cents(2)), Ok(usd_cents(3)));
        assert_eq!(usd_cents(1).checked_sub(usd_cents(2)), Ok(usd_cents(-1)));
        assert_eq!(
            usd_cents(i64::MAX).checked_add(usd_cents(1)),
            Err(MoneyError::Overflow)
        );
        assert!(Money::zero(eur()).is_zero());
        assert_eq!(usd_cents(1_234).to_string(), "1234 USD");
    }

    proptest! {
        #[test]
        fn any_three_uppercase_letters_round_trip(code in "[A-Z]{3}") {
            let currency = Currency::parse(&code).unwrap();
            prop_assert_eq!(currency.as_str(), code.as_str());
            let json = serde_json::to_string(&currency).unwrap();
            prop_assert_eq!(serde_json::from_str::<Currency>(&json).unwrap(), currency);
        }

        #[test]
        fn anything_else_is_refused(text in "\\PC{0,5}") {
            let valid = text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase());
            prop_assert_eq!(Currency::parse(&text).is_ok(), valid);
        }

        #[test]
        fn a_portion_is_within_the_price_and_the_rounding_is_exact(
            cents in 0i64..10_000_000_000_000, whole in 1i64..40_000_000, part in 0i64..40_000_000
        ) {
            let part = part.min(whole);
            let got = usd_cents(cents).portion(part, whole).cents();
            prop_assert!((0..=cents).contains(&got));
            // Half up: |got − exact| ≤ ½, and exactly ½ rounds up.
            let exact_twice = 2 * i128::from(cents) * i128::from(part);
            let got_twice = 2 * i128::from(got) * i128::from(whole);
            prop_assert!(got_twice - exact_twice <= i128::from(whole));
            prop_assert!(exact_twice - got_twice < i128::from(whole));
        }

        #[test]
        fn the_sum_of_splits_is_within_a_cent_of_the_whole(
            cents in 0i64..10_000_000, whole in 1i64..40_000_000, cut in 0i64..40_000_000
        ) {
            let cut = cut.min(whole);
            let price = usd_cents(cents);
            let parts = price.portion(cut, whole).checked_add(price.portion(whole - cut, whole)).unwrap();
            prop_assert!((parts.cents() - cents).abs() <= 1, "{parts} vs {price}");
        }

        #[test]
        fn checked_mul_agrees_with_wide_arithmetic(cents in any::<i64>(), quantity in any::<i64>()) {
            let wide = i128::from(cents) * i128::from(quantity);
            match usd_cents(cents).checked_mul(quantity) {
                Ok(total) => prop_assert_eq!(i128::from(total.cents()), wide),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Overflow);
                    prop_assert!(i64::try_from(wide).is_err());
                }
            }
        }
    }
}
