//! A waker that remembers being used: a task that polls several sources in one poll can
//! tell whether this one has woken it, and leave it alone otherwise (its registration
//! stands until it fires).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

/// Set when woken, and passes the wake on to the task.
#[derive(Debug)]
pub(crate) struct WakeFlag {
    woken: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl WakeFlag {
    /// A flag that starts woken (the source is polled the first time) and wakes nobody yet.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            woken: AtomicBool::new(true),
            task: Mutex::new(None),
        })
    }

    /// Whether the flag was woken (or [`set`](Self::set)) since the last call; wakes of
    /// the flag reach `cx`'s task from now on. `known` is the task waker passed on so far,
    /// kept by the caller so that the shared one is only replaced when the task's changes.
    pub(crate) fn take(&self, cx: &Context<'_>, known: &mut Option<Waker>) -> bool {
        if !known.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            let waker = cx.waker().clone();
            *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(waker.clone());
            *known = Some(waker);
        }
        // After the waker is in place: a wake from here on reaches the task.
        self.woken.swap(false, Ordering::AcqRel)
    }

    /// Marks the flag so that the next [`take`](Self::take) says woken (the source had more
    /// than one poll's worth).
    pub(crate) fn set(&self) {
        self.woken.store(true, Ordering::Release);
    }
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        if let Some(w) = self.task.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            w.wake_by_ref();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// Counts the wakes of a pretend task.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn remembers_a_wake_once_and_passes_it_to_the_latest_task_waker() {
        let flag = WakeFlag::new();
        let first = Arc::new(Count::default());
        let first_waker = Waker::from(first.clone());
        let cx = Context::from_waker(&first_waker);
        let mut known = None;
        // Starts woken, so that the source is polled once.
        assert!(flag.take(&cx, &mut known));
        assert!(!flag.take(&cx, &mut known));
        let source_waker = Waker::from(flag.clone());
        source_waker.wake_by_ref();
        assert_eq!(first.0.load(Ordering::SeqCst), 1);
        assert!(flag.take(&cx, &mut known));
        assert!(!flag.take(&cx, &mut known));
        // The task's waker changed: wakes go to the new one.
        let second = Arc::new(Count::default());
        let second_waker = Waker::from(second.clone());
        assert!(!flag.take(&Context::from_waker(&second_waker), &mut known));
        source_waker.wake();
        assert_eq!(
            (
                first.0.load(Ordering::SeqCst),
                second.0.load(Ordering::SeqCst)
            ),
            (1, 1)
        );
        flag.set();
        assert!(flag.take(&Context::from_waker(&second_waker), &mut known));
    }
}
