//! Checks of the `needs` graph: unknown jobs, cycles, and a starting job.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::diagnostic::Diagnostics;
use crate::model::Job;
use crate::suggest;

pub(crate) fn check_needs(jobs: &IndexMap<String, Job>, diags: &mut Diagnostics) {
    let index: HashMap<String, usize> = jobs
        .keys()
        .enumerate()
        .map(|(i, id)| (id.to_ascii_lowercase(), i))
        .collect();
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); jobs.len()];
    for (i, job) in jobs.values().enumerate() {
        for (n, need) in job.needs.iter().enumerate() {
            match index.get(&need.value.to_ascii_lowercase()) {
                Some(&target) => edges[i].push((target, n)),
                None => {
                    let help = match suggest::nearest(&need.value, jobs.keys().map(String::as_str))
                    {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!(
                            "jobs in this workflow: {}",
                            jobs.keys()
                                .map(String::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    diags
                        .error(
                            need.span,
                            format!("Job '{}' depends on unknown job '{}'.", job.id, need.value),
                        )
                        .with_help(help);
                }
            }
        }
    }
    if jobs.is_empty() {
        return;
    }
    if jobs.values().all(|j| !j.needs.is_empty()) {
        let first = jobs.values().next().map(|j| j.span).unwrap_or_default();
        diags
            .error(
                first,
                "The workflow must contain at least one job with no dependencies.",
            )
            .with_help("some job must be able to start first; remove `needs` from one of them");
        return;
    }
    report_cycles(jobs, &edges, diags);
}

/// Reports every `needs` edge that lies on a cycle (both ends in one
/// strongly connected component), each with a chain of jobs that closes it.
fn report_cycles(
    jobs: &IndexMap<String, Job>,
    edges: &[Vec<(usize, usize)>],
    diags: &mut Diagnostics,
) {
    let component = strongly_connected_components(edges);
    for (from, targets) in edges.iter().enumerate() {
        for &(to, need_index) in targets {
            if component[from] != component[to] {
                continue;
            }
            let mut chain: Vec<&str> = vec![jobs[from].id.as_str()];
            chain.extend(
                path_within(edges, &component, to, from)
                    .iter()
                    .map(|&n| jobs[n].id.as_str()),
            );
            let job = &jobs[from];
            diags
                .error(
                    job.needs[need_index].span,
                    format!(
                        "Job '{}' depends on job '{}' which creates a cycle in the dependency graph.",
                        job.id, jobs[to].id
                    ),
                )
                .with_help(format!("the cycle is {}; remove one of these needs", chain.join(" -> ")));
        }
    }
}

/// Component number of each node (Kosaraju's algorithm, without recursion).
fn strongly_connected_components(edges: &[Vec<(usize, usize)>]) -> Vec<usize> {
    let n = edges.len();
    let mut order = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    for start in 0..n {
        if visited[start] {
            continue;
        }
        visited[start] = true;
        let mut stack = vec![(start, 0usize)];
        while let Some((node, next)) = stack.last_mut() {
            if let Some(&(target, _)) = edges[*node].get(*next) {
                *next += 1;
                if !visited[target] {
                    visited[target] = true;
                    stack.push((target, 0));
                }
            } else {
                order.push(*node);
                stack.pop();
            }
        }
    }
    let mut reverse = vec![Vec::new(); n];
    for (from, targets) in edges.iter().enumerate() {
        for &(to, _) in targets {
            reverse[to].push(from);
        }
    }
    let mut component = vec![usize::MAX; n];
    let mut count = 0;
    for &root in order.iter().rev() {
        if component[root] != usize::MAX {
            continue;
        }
        let mut stack = vec![root];
        component[root] = count;
        while let Some(node) = stack.pop() {
            for &prev in &reverse[node] {
                if component[prev] == usize::MAX {
                    component[prev] = count;
                    stack.push(prev);
                }
            }
        }
        count += 1;
    }
    component
}

/// The nodes of a shortest path from `from` to `to` inside one component.
fn path_within(
    edges: &[Vec<(usize, usize)>],
    component: &[usize],
    from: usize,
    to: usize,
) -> Vec<usize> {
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    previous.insert(from, from);
    while let Some(node) = queue.pop_front() {
        if node == to {
            break;
        }
        for &(next, _) in &edges[node] {
            if component[next] == component[from] && !previous.contains_key(&next) {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    let mut path = vec![to];
    let mut node = to;
    while node != from {
        match previous.get(&node) {
            Some(&p) => {
                node = p;
                path.push(node);
            }
            None => break,
        }
    }
    path.reverse();
    path
}
