//! The order crates go to crates.io: each after every sibling it depends on.
//!
//! Taken from the path dependencies cargo reports, never from a list kept by hand, so that a new
//! crate or a new edge is picked up by itself. Crates are put in layers (a crate's layer is one
//! more than the highest layer among its dependencies) and sorted by layer, then name: a
//! topological order that is the same on every run and reads bottom-up, `sip-packet` first and
//! the crate with the longest chain beneath it (`netsip`) last.

use std::collections::BTreeSet;

use super::error::ReleaseError;
use super::workspace::{DependencyKind, Package, Workspace};

/// The publishable members in an order in which each comes after its dependencies.
pub(crate) fn publish_order(ws: &Workspace) -> Result<Vec<&Package>, ReleaseError> {
    let packages: Vec<&Package> = ws.publishable().collect();
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let deps: Vec<BTreeSet<usize>> = packages
        .iter()
        .map(|p| {
            p.path_dependencies
                .iter()
                // A path-only dev-dependency is dropped from the published manifest, so it
                // need not be on crates.io first (and may even point back: tests of a lower
                // crate that use a higher one).
                .filter(|d| d.kind != DependencyKind::Dev || d.has_version)
                .filter_map(|d| ws.member_at(&d.path))
                .filter_map(|m| packages.iter().position(|q| q.name == m.name))
                .collect()
        })
        .collect();
    match layered(&names, &deps) {
        Ok(order) => Ok(order.into_iter().map(|i| packages[i]).collect()),
        Err(stuck) => Err(ReleaseError::Cycle(
            stuck.into_iter().map(|i| names[i].to_owned()).collect(),
        )),
    }
}

/// Nodes `0..names.len()` in layer-then-name order, where `deps[i]` are the nodes `i` needs
/// before it. On a cycle: the nodes that can never be placed (the cycle and everything above
/// it), by name.
fn layered(names: &[&str], deps: &[BTreeSet<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = names.len();
    let mut dependents = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = Vec::with_capacity(n);
    for (i, d) in deps.iter().enumerate() {
        // A crate "depending" on itself is no ordering constraint.
        let others: Vec<usize> = d.iter().copied().filter(|&j| j != i && j < n).collect();
        for &j in &others {
            dependents[j].push(i);
        }
        waiting.push(others.len());
    }
    let mut layer = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut placed = Vec::with_capacity(n);
    while let Some(j) = ready.pop() {
        placed.push(j);
        for &i in &dependents[j] {
            layer[i] = layer[i].max(layer[j] + 1);
            waiting[i] -= 1;
            if waiting[i] == 0 {
                ready.push(i);
            }
        }
    }
    if placed.len() < n {
        let mut stuck: Vec<usize> = (0..n).filter(|&i| waiting[i] > 0).collect();
        stuck.sort_by_key(|&i| names[i]);
        return Err(stuck);
    }
    placed.sort_by(|&a, &b| layer[a].cmp(&layer[b]).then(names[a].cmp(names[b])));
    Ok(placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(names: &[&str], edges: &[(usize, usize)]) -> Result<Vec<String>, Vec<String>> {
        let mut deps = vec![BTreeSet::new(); names.len()];
        for &(from, to) in edges {
            deps[from].insert(to);
        }
        let name = |v: Vec<usize>| v.into_iter().map(|i| names[i].to_owned()).collect();
        layered(names, &deps).map(name).map_err(name)
    }

    #[test]
    fn the_netsip_graph_goes_bottom_up() {
        // The workspace as it is: netsip has the longest chain beneath it, so it goes last
        // even though its name sorts first.
        let names = [
            "netsip",
            "sip-dispatch",
            "sip-endpoint",
            "sip-packet",
            "sip-proxy",
            "sip-registrar",
            "sip-sdp",
            "sip-simple",
            "sip-transport",
        ];
        let edges = [
            (0, 3),
            (0, 5),
            (0, 4),
            (0, 1),
            (0, 8),
            (1, 3),
            (1, 8),
            (2, 3),
            (2, 8),
            (2, 1),
            (4, 3),
            (4, 8),
            (4, 1),
            (4, 5),
            (5, 3),
            (5, 8),
            (5, 1),
            (7, 3),
            (7, 6),
            (7, 8),
            (7, 1),
            (7, 2),
            (8, 3),
        ];
        assert_eq!(
            order(&names, &edges),
            Ok(vec![
                "sip-packet".into(),
                "sip-sdp".into(),
                "sip-transport".into(),
                "sip-dispatch".into(),
                "sip-endpoint".into(),
                "sip-registrar".into(),
                "sip-proxy".into(),
                "sip-simple".into(),
                "netsip".into(),
            ])
        );
    }

    #[test]
    fn every_crate_comes_after_its_dependencies() {
        // A diamond with a long side: d needs b and c, c needs b, b needs a.
        let names = ["d", "c", "b", "a"];
        let edges = [(0, 2), (0, 1), (1, 2), (2, 3)];
        assert_eq!(
            order(&names, &edges),
            Ok(vec!["a".into(), "b".into(), "c".into(), "d".into()])
        );
        // Independent crates: by name.
        assert_eq!(
            order(&["z", "y", "x"], &[]),
            Ok(vec!["x".into(), "y".into(), "z".into()])
        );
        assert_eq!(order(&[], &[]), Ok(vec![]));
        // A self-edge is no constraint.
        assert_eq!(order(&["a"], &[(0, 0)]), Ok(vec!["a".into()]));
    }

    #[test]
    fn a_cycle_names_what_cannot_be_placed() {
        // a <-> b, and c above them; d is free.
        let names = ["a", "b", "c", "d"];
        let edges = [(0, 1), (1, 0), (2, 0)];
        assert_eq!(
            order(&names, &edges),
            Err(vec!["a".into(), "b".into(), "c".into()])
        );
    }

    #[test]
    fn publish_order_reads_the_workspace() {
        let ws = match Workspace::from_metadata(super::super::workspace::tests::METADATA) {
            Ok(ws) => ws,
            Err(e) => panic!("{e:#}"),
        };
        // beta depends on alpha; tool is not published; gamma (dev, path only) is no member.
        let names: Vec<String> = match publish_order(&ws) {
            Ok(o) => o.into_iter().map(|p| p.name.clone()).collect(),
            Err(e) => panic!("{e}"),
        };
        assert_eq!(names, ["alpha", "beta"]);
    }
}
