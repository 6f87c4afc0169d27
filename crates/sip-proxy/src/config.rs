//! How a stateless proxy behaves.

use std::sync::Arc;

use sip_dispatch::resolve::RouteConfig;
use sip_packet::Uri;

use crate::locate::Locate;
use crate::nat::{NatHelper, NatScope};

/// When Contact headers are rewritten to point at the proxy ([`crate::ContactRewriter`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RewriteContact {
    /// Never.
    Never,
    /// When a message leaves on another leg than it came in on (Net::SIP's default).
    #[default]
    WhenLegsDiffer,
    /// Always (Net::SIP's `force_rewrite`): clients behind NAT on the same leg.
    Always,
}

/// How a [`StatelessProxy`](crate::StatelessProxy) routes.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ProxyConfig {
    /// Put `Record-Route: <sip:US;lr>` on forwarded requests (REGISTER excepted), so that
    /// the dialog's later requests pass the proxy too. When a request leaves on another leg
    /// than it came in on, both legs are recorded (double Record-Route, RFC 5658 §3.2),
    /// the outgoing one on top.
    pub record_route: bool,
    /// When Contact headers are rewritten.
    pub rewrite_contact: RewriteContact,
    /// The domains the proxy is responsible for: a request for one of them (or for one of
    /// the proxy's own addresses) that the locator does not place gets 404.
    pub domains: Vec<String>,
    /// `domain2proxy` and `outgoing_proxy`, applied to the Request-URI when no Route is
    /// left.
    pub route: RouteConfig,
    /// The location service (e.g. a registrar).
    pub locator: Option<Arc<dyn Locate>>,
    /// The NAT helper that relays the media of calls through the proxy (Net::SIP's
    /// `nathelper`); none: SDP passes untouched.
    pub nat: Option<Arc<dyn NatHelper>>,
    /// Which calls the NAT helper relays.
    pub nat_scope: NatScope,
}

impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("record_route", &self.record_route)
            .field("rewrite_contact", &self.rewrite_contact)
            .field("domains", &self.domains)
            .field("route", &self.route)
            .field("locator", &self.locator.is_some())
            .field("nat", &self.nat)
            .field("nat_scope", &self.nat_scope)
            .finish()
    }
}

impl ProxyConfig {
    /// No Record-Route, contacts rewritten between legs, no domains, no static routes, no
    /// locator, no NAT helper.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record-Route on or off.
    #[must_use]
    pub fn record_route(mut self, on: bool) -> Self {
        self.record_route = on;
        self
    }

    /// When to rewrite contacts.
    #[must_use]
    pub fn rewrite_contact(mut self, mode: RewriteContact) -> Self {
        self.rewrite_contact = mode;
        self
    }

    /// Adds a domain the proxy is responsible for.
    #[must_use]
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domains.push(domain.into());
        self
    }

    /// Adds a `domain2proxy` entry (see [`RouteConfig::domain2proxy`] for patterns).
    #[must_use]
    pub fn domain2proxy(mut self, pattern: impl Into<String>, proxy: Uri) -> Self {
        self.route.domain2proxy.push((pattern.into(), proxy));
        self
    }

    /// These static routes.
    #[must_use]
    pub fn route(mut self, route: RouteConfig) -> Self {
        self.route = route;
        self
    }

    /// This location service.
    #[must_use]
    pub fn locator(mut self, locator: Arc<dyn Locate>) -> Self {
        self.locator = Some(locator);
        self
    }

    /// Relays the media of calls through this NAT helper (see [`crate::nat`]).
    #[must_use]
    pub fn nat(mut self, helper: Arc<dyn NatHelper>) -> Self {
        self.nat = Some(helper);
        self
    }

    /// Which calls the NAT helper relays (every call unless set).
    #[must_use]
    pub fn nat_scope(mut self, scope: NatScope) -> Self {
        self.nat_scope = scope;
        self
    }
}
