//! A generic server in the typed form, with a const parameter and a where clause.
use bough::prelude::*;

pub struct Ring<T, const N: usize> {
    items: Vec<T>,
}

#[gen_server]
impl<T, const N: usize> Ring<T, N>
where
    T: Clone + Send + Sync + 'static,
{
    async fn init(items: Vec<T>) -> Init<Self> {
        Init::Ok(Ring { items })
    }

    #[cast]
    pub async fn push(&mut self, item: T) {
        if self.items.len() == N {
            self.items.remove(0);
        }
        self.items.push(item);
    }

    #[call]
    pub async fn items(&self) -> Vec<T> {
        self.items.clone()
    }

    #[call]
    pub async fn capacity(&self) -> usize {
        N
    }
}

supervisor! {
    pub Rings {
        strategy: one_for_one,
        children: [(Ring<String, 2>, Vec::new()), (Ring<u8, 3>, vec![1])],
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let ring = Ring::<u8, 2>::start_link(vec![]).await.unwrap();
    for n in 1..=3 {
        Ring::push(&ring, n);
    }
    assert_eq!(Ring::items(&ring).await, Ok(vec![2, 3]));
    assert_eq!(Ring::capacity(&ring).await, Ok(2));
}
