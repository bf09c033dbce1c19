//! Billing vocabulary and the one rule that decides how an invite gets a license.

use crate::domain::access::SubscriberType;

string_enum! {
    /// `classic` accounts price attorneys and non-attorneys separately; `new` accounts have one `user` license.
    BillingSystem {
        Classic => "classic",
        New => "new",
    }
}

string_enum! {
    /// Billing plan: prices are per year (`annual`) or per calendar month (`monthly`).
    Plan {
        Annual => "annual",
        Monthly => "monthly",
    }
}

string_enum! {
    /// Seat license type: `attorney` / `non_attorney` on classic accounts, `user` on new ones.
    LicenseType {
        Attorney => "attorney",
        NonAttorney => "non_attorney",
        User => "user",
    }
}

string_enum! {
    /// `open` (paid, unused), `reserved` (held by a pending invitation) or `assigned` (held by an active user).
    LicenseState {
        Open => "open",
        Reserved => "reserved",
        Assigned => "assigned",
    }
}

string_enum! {
    /// Why a charge was recorded.
    ChargeReason {
        Invitation => "invitation",
        LicensePurchase => "license_purchase",
        UserEnabled => "user_enabled",
    }
}

impl BillingSystem {
    pub fn license_types(self) -> &'static [LicenseType] {
        match self {
            BillingSystem::Classic => &[LicenseType::Attorney, LicenseType::NonAttorney],
            BillingSystem::New => &[LicenseType::User],
        }
    }

    /// The license a member of this subscriber type needs. `None` on a classic
    /// account without a subscriber type (the caller reports the missing field).
    pub fn license_type_for(self, subscriber_type: Option<SubscriberType>) -> Option<LicenseType> {
        match (self, subscriber_type) {
            (BillingSystem::New, _) => Some(LicenseType::User),
            (BillingSystem::Classic, Some(SubscriberType::Attorney)) => Some(LicenseType::Attorney),
            (BillingSystem::Classic, Some(SubscriberType::NonAttorney)) => {
                Some(LicenseType::NonAttorney)
            }
            (BillingSystem::Classic, None) => None,
        }
    }

    /// The license the primary subscriber occupies from bootstrap on.
    pub fn owner_license_type(self) -> LicenseType {
        match self {
            BillingSystem::Classic => LicenseType::Attorney,
            BillingSystem::New => LicenseType::User,
        }
    }

    pub fn accepts(self, license_type: LicenseType) -> bool {
        self.license_types().contains(&license_type)
    }
}

/// How an invite (or the enabling of a user) obtains its license.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acquisition {
    /// An open license exists: reserve it, no charge.
    ReuseOpen,
    /// Buy a license now and charge the prorated remainder of the period.
    Buy,
    /// Classic + annual with no open license: refuse with `no_available_license`.
    Refuse,
}

pub fn acquisition(system: BillingSystem, plan: Plan, open_license_available: bool) -> Acquisition {
    if open_license_available {
        return Acquisition::ReuseOpen;
    }
    match (system, plan) {
        (BillingSystem::Classic, Plan::Annual) => Acquisition::Refuse,
        _ => Acquisition::Buy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_license_is_always_reused_for_free() {
        for system in BillingSystem::ALL {
            for plan in Plan::ALL {
                assert_eq!(acquisition(*system, *plan, true), Acquisition::ReuseOpen);
            }
        }
    }

    #[test]
    fn only_classic_annual_refuses_when_no_license_is_open() {
        use BillingSystem::*;
        use Plan::*;
        assert_eq!(acquisition(Classic, Annual, false), Acquisition::Refuse);
        assert_eq!(acquisition(Classic, Monthly, false), Acquisition::Buy);
        assert_eq!(acquisition(New, Annual, false), Acquisition::Buy);
        assert_eq!(acquisition(New, Monthly, false), Acquisition::Buy);
    }

    #[test]
    fn subscriber_type_picks_the_license_on_classic_only() {
        use SubscriberType::*;
        let classic = BillingSystem::Classic;
        assert_eq!(
            classic.license_type_for(Some(Attorney)),
            Some(LicenseType::Attorney)
        );
        assert_eq!(
            classic.license_type_for(Some(NonAttorney)),
            Some(LicenseType::NonAttorney)
        );
        assert_eq!(classic.license_type_for(None), None);
        assert_eq!(
            BillingSystem::New.license_type_for(Some(Attorney)),
            Some(LicenseType::User)
        );
        assert_eq!(
            BillingSystem::New.license_type_for(None),
            Some(LicenseType::User)
        );
    }
}
